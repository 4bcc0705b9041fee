UCLA pl 1.0
# Created	:	Jan  6 2002
# User   	:	Saurabh Adya (sadya@umich.edu)

	a0	0	0	: N
	a1	24	16	: N
	a2	40	32	: N
	a3	80	0	: N
	a4	8	32	: N
	a5	144	48	: N
	p1	0	63	: N
	p2	159	0	: N
