UCLA pl 1.0
# Created	:	Jul 21 2004

	a0	4	0	: N
	a1	20	16	: N
	a2	60	0	: N
	a3	0	24	: N
	a4	128	48	: N
	p1	0	64	: N
	p2	144	0	: N
