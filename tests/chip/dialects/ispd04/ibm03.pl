UCLA pl 1.0

c0	2	0	:	N
c1	20	12	:	FS
c2	34	24	:	N
c3	10	36	:	N
c4	50	12	:	N
pad0	0	46	:	N	/FIXED
pad1	98	0	:	N	/FIXED
