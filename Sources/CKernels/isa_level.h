#pragma once

/// Which vector code the convolution kernels run: 2 with AVX-512VL, 1 with
/// AVX2 and FMA, 0 otherwise (x86-64 only). CKERNELS_ISA=avx2 or
/// CKERNELS_ISA=scalar in the environment caps it, so tests can run the
/// other variants on one machine.
int ck_isa_level(void);
