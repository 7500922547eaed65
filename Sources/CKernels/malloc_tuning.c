// How the C library's allocator treats tensors' storage.
//
// glibc serves a block above M_MMAP_THRESHOLD (128 KiB at start) with a
// fresh mmap and gives it back with munmap when freed, and returns free
// memory at the top of the heap beyond M_TRIM_THRESHOLD. A training step
// allocates and frees the same activations and gradients, hundreds of KiB
// to megabytes each, every step: with those defaults every one of them is
// new pages, faulted in and zeroed by the kernel. glibc raises both
// thresholds by itself after the first large block is freed (up to 32 MiB
// and 64 MiB), which reading a data set into memory happened to do; when
// the samples were streamed instead, nothing did, and cnn at np=2 ran at
// 0.6 of its speed (issue 21, measured). Fixing the thresholds at those
// maxima makes the speed independent of what the process did before.
#include "ckernels.h"

#if defined(__GLIBC__)
#include <malloc.h>

void ck_keep_freed_memory(void) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
}
#else
void ck_keep_freed_memory(void) {}
#endif
