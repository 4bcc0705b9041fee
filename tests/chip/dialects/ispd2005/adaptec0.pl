UCLA pl 1.0
# Created	:	2005
# User	:	Gi-Joon Nam & Mehmet Yildiz at IBM Austin Research({gnam, mcan}@us.ibm.com)

o0	10	0	: N
o1	30	12	: N
o2	4	24	: N
o3	60	36	: N
o4	100	0	: N
o5	70	60	: N
o6	0	60	: N /FIXED
o7	150	72	: N /FIXED
