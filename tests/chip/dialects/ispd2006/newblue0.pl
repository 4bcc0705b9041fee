UCLA pl 1.0
# Created	:	2006

o0	5	0	: N
o1	20	10	: N
o2	40	0	: N
o3	80	20	: N
o4	10	40	: N
o5	100	0	: N /FIXED
o6	0	55	: N /FIXED_NI
o7	119	59	: N /FIXED_NI
