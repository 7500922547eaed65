#pragma once
#include <stddef.h>

/// The indices i in [0, n) for which stride * i + offset lies in [0, limit),
/// as [*lo, *hi): the output columns of a window column that fall inside the
/// image (col2im), the stride-phase pixels inside the unpadded input
/// (conv_direct.c).
static inline __attribute__((always_inline)) void
strided_range(ptrdiff_t offset, size_t stride, size_t limit, size_t n, size_t *lo, size_t *hi) {
    const ptrdiff_t s = (ptrdiff_t)stride;
    ptrdiff_t first = offset >= 0 ? 0 : (-offset + s - 1) / s;  // smallest i with s*i + offset >= 0
    const ptrdiff_t last = (ptrdiff_t)limit - 1 - offset;        // largest s*i allowed
    ptrdiff_t end = last < 0 ? 0 : last / s + 1;
    if (end > (ptrdiff_t)n) end = (ptrdiff_t)n;
    if (first > end) first = end;
    *lo = (size_t)first;
    *hi = (size_t)end;
}
