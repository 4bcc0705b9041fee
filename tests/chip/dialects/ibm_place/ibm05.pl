UCLA pl 1.0

	a0	0	0	: N
	a1	10	0	: N
	a2	20	16	: N
	a3	4	32	: N
	a4	30	32	: N
	a5	14	16	: N
	p0	39	47	: N
