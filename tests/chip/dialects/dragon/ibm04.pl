UCLA pl 1.0
# Dragon 3.01 output

a0 0 0
a1 24 8
a2 40 0
a3 8 24
a4 64 24
p0 0 38
p1 94 0
