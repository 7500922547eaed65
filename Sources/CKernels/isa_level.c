#include "isa_level.h"
#include <stdlib.h>
#include <string.h>

int ck_isa_level(void) {
#if defined(__x86_64__)
    static int cached = -1;
    if (cached < 0) {
        int level = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                        ? (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") ? 2 : 1)
                        : 0;
        const char *cap = getenv("CKERNELS_ISA");
        if (cap && strcmp(cap, "scalar") == 0) level = 0;
        if (cap && strcmp(cap, "avx2") == 0 && level > 1) level = 1;
        cached = level;
    }
    return cached;
#else
    return 0;
#endif
}
