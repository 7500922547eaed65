#include "ckernels.h"
#include "strided_range.h"
#include <string.h>

// Convolution and pooling loops over NCHW images. Every output element is a
// copy, a sum in a fixed order or a maximum, so the results are identical
// whichever variant (scalar or AVX2) runs.

#pragma STDC FP_CONTRACT OFF

// col2im runs only for the input gradients that conv2d leaves off the direct
// kernels (conv_direct.c): those where the output gradient's zero border
// would be most of the products, as in the model zoo's unpadded 5x5 layers.
// Its unpadded stride-1 case adds runs of ow floats, 8 in the zoo. Left to
// clang, such a run became a call to memmove, or a vector loop unrolled for
// long runs that falls back to scalar code on runs this short; whole
// eight-float moves (add_short) measured about twice as fast.

/// Eight floats, loaded and stored unaligned (a generic vector: AVX in the
/// avx2 variants, two SSE registers otherwise).
typedef float ck_v8f __attribute__((vector_size(32), aligned(4)));

/// dst[0..<n] += src[0..<n] for a short n.
static inline __attribute__((always_inline)) void add_short(float *restrict dst, const float *restrict src, size_t n) {
    size_t i = 0;
#pragma clang loop vectorize(disable) unroll(disable)
    for (; i + 8 <= n; i += 8) *(ck_v8f *)(dst + i) = *(const ck_v8f *)(dst + i) + *(const ck_v8f *)(src + i);
#pragma clang loop vectorize(disable) unroll(disable)
    for (; i < n; i++) dst[i] += src[i];
}

static inline __attribute__((always_inline)) void
col2im_body(const float *restrict col, size_t ldcol, float *restrict x, size_t channels, size_t height,
            size_t width, size_t kh, size_t kw, size_t stride, size_t pad, size_t oh, size_t ow) {
    if (stride == 1 && pad == 0) {
        for (size_t c = 0; c < channels; c++) {
            for (size_t ki = 0; ki < kh; ki++) {
                for (size_t kj = 0; kj < kw; kj++) {
                    const float *src = col + ((c * kh + ki) * kw + kj) * ldcol;
                    float *dst = x + (c * height + ki) * width + kj;
                    for (size_t oy = 0; oy < oh; oy++) add_short(dst + oy * width, src + oy * ow, ow);
                }
            }
        }
        return;
    }
    for (size_t c = 0; c < channels; c++) {
        float *plane = x + c * height * width;
        for (size_t ki = 0; ki < kh; ki++) {
            for (size_t kj = 0; kj < kw; kj++) {
                const float *row = col + ((c * kh + ki) * kw + kj) * ldcol;
                ptrdiff_t offset = (ptrdiff_t)kj - (ptrdiff_t)pad;
                size_t lo, hi;
                strided_range(offset, stride, width, ow, &lo, &hi);
                for (size_t oy = 0; oy < oh; oy++) {
                    ptrdiff_t iy = (ptrdiff_t)(oy * stride + ki) - (ptrdiff_t)pad;
                    if (iy < 0 || iy >= (ptrdiff_t)height) continue;
                    const float *src = row + oy * ow;
                    float *dst = plane + (size_t)iy * width;
                    if (stride == 1) {
                        float *d = dst + offset;
                        for (size_t ox = lo; ox < hi; ox++) d[ox] += src[ox];
                    } else {
                        for (size_t ox = lo; ox < hi; ox++) dst[(ptrdiff_t)(ox * stride) + offset] += src[ox];
                    }
                }
            }
        }
    }
}

// PyTorch's rule: the first maximum in row-major window order wins, and a NaN
// wins over any number (so NaN propagates).
static inline __attribute__((always_inline)) void
maxpool_forward_body(const float *restrict x, float *restrict y, int32_t *restrict argmax, size_t planes,
                     size_t height, size_t width, size_t kh, size_t kw, size_t stride, size_t oh, size_t ow) {
    for (size_t p = 0; p < planes; p++) {
        const float *plane = x + p * height * width;
        float *out = y + p * oh * ow;
        int32_t *arg = argmax + p * oh * ow;
        for (size_t oy = 0; oy < oh; oy++) {
            for (size_t ox = 0; ox < ow; ox++) {
                size_t y0 = oy * stride, x0 = ox * stride;
                size_t best = y0 * width + x0;
                float m = plane[best];
                for (size_t i = 0; i < kh; i++) {
                    const float *r = plane + (y0 + i) * width + x0;
                    for (size_t j = 0; j < kw; j++) {
                        float v = r[j];
                        if (v > m || v != v) {
                            m = v;
                            best = (y0 + i) * width + x0 + j;
                            if (v != v) goto done;
                        }
                    }
                }
            done:
                out[oy * ow + ox] = m;
                arg[oy * ow + ox] = (int32_t)best;
            }
        }
    }
}

// 2x2 windows with stride 2 (every pooling layer of the model zoo): no inner
// window loops, and the same choice as the general rule.
static inline __attribute__((always_inline)) void
maxpool2x2_forward_body(const float *restrict x, float *restrict y, int32_t *restrict argmax, size_t planes,
                        size_t height, size_t width, size_t oh, size_t ow) {
    for (size_t p = 0; p < planes; p++) {
        const float *plane = x + p * height * width;
        float *out = y + p * oh * ow;
        int32_t *arg = argmax + p * oh * ow;
        for (size_t oy = 0; oy < oh; oy++) {
            const float *r0 = plane + 2 * oy * width, *r1 = r0 + width;
            int32_t base = (int32_t)(2 * oy * width);
            for (size_t ox = 0; ox < ow; ox++) {
                float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
                int32_t ia = base + (int32_t)(2 * ox);
                float m = a;
                int32_t best = ia;
                if (b > m || (b != b && m == m)) { m = b; best = ia + 1; }
                if (c > m || (c != c && m == m)) { m = c; best = ia + (int32_t)width; }
                if (d > m || (d != d && m == m)) { m = d; best = ia + (int32_t)width + 1; }
                out[oy * ow + ox] = m;
                arg[oy * ow + ox] = best;
            }
        }
    }
}

static inline __attribute__((always_inline)) void
row_sums_body(const float *restrict a, float *restrict out, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = a + r * cols;
        // Sixteen independent partial sums: a vector of them, no reassociation needed.
        float acc[16] = {0};
        size_t j = 0;
        for (; j + 16 <= cols; j += 16) {
            for (size_t k = 0; k < 16; k++) acc[k] += row[j + k];
        }
        float s = 0.0f;
        for (; j < cols; j++) s += row[j];
        for (size_t k = 0; k < 16; k++) s += acc[k];
        out[r] += s;
    }
}

static inline __attribute__((always_inline)) void
relu_backward_body(const float *restrict x, const float *restrict g, float *restrict gx, size_t n,
                   int accumulate) {
    if (accumulate) {
        for (size_t i = 0; i < n; i++) gx[i] += x[i] > 0.0f ? g[i] : 0.0f;
    } else {
        for (size_t i = 0; i < n; i++) gx[i] = x[i] > 0.0f ? g[i] : 0.0f;
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void
col2im_avx2(const float *restrict col, size_t ldcol, float *restrict x, size_t c, size_t h, size_t w,
            size_t kh, size_t kw, size_t s, size_t p, size_t oh, size_t ow) {
    col2im_body(col, ldcol, x, c, h, w, kh, kw, s, p, oh, ow);
}
__attribute__((target("avx2"))) static void
row_sums_avx2(const float *restrict a, float *restrict out, size_t rows, size_t cols) {
    row_sums_body(a, out, rows, cols);
}
__attribute__((target("avx2"))) static void
relu_backward_avx2(const float *restrict x, const float *restrict g, float *restrict gx, size_t n, int accumulate) {
    relu_backward_body(x, g, gx, n, accumulate);
}
static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("avx2") ? 1 : 0;
    return cached;
}
#endif

void ck_col2im_add(const float *restrict col, size_t ldcol, float *restrict x, size_t channels, size_t height,
                   size_t width, size_t kh, size_t kw, size_t stride, size_t pad, size_t oh, size_t ow) {
#if defined(__x86_64__)
    if (has_avx2()) { col2im_avx2(col, ldcol, x, channels, height, width, kh, kw, stride, pad, oh, ow); return; }
#endif
    col2im_body(col, ldcol, x, channels, height, width, kh, kw, stride, pad, oh, ow);
}

void ck_maxpool2d_forward(const float *restrict x, float *restrict y, int32_t *restrict argmax, size_t planes,
                          size_t height, size_t width, size_t kh, size_t kw, size_t stride, size_t oh, size_t ow) {
    if (kh == 2 && kw == 2 && stride == 2) {
        maxpool2x2_forward_body(x, y, argmax, planes, height, width, oh, ow);
    } else {
        maxpool_forward_body(x, y, argmax, planes, height, width, kh, kw, stride, oh, ow);
    }
}

void ck_maxpool2d_backward(const float *restrict gy, const int32_t *restrict argmax, float *restrict gx,
                           size_t planes, size_t plane_size, size_t out_plane_size, int accumulate) {
    for (size_t p = 0; p < planes; p++) {
        const float *g = gy + p * out_plane_size;
        const int32_t *arg = argmax + p * out_plane_size;
        float *dst = gx + p * plane_size;
        if (!accumulate) memset(dst, 0, plane_size * sizeof(float));  // in cache as the adds follow
        for (size_t i = 0; i < out_plane_size; i++) dst[arg[i]] += g[i];
    }
}

void ck_add_row_sums(const float *restrict a, float *restrict out, size_t rows, size_t cols) {
#if defined(__x86_64__)
    if (has_avx2()) { row_sums_avx2(a, out, rows, cols); return; }
#endif
    row_sums_body(a, out, rows, cols);
}

void ck_relu_backward(const float *restrict x, const float *restrict g, float *restrict gx, size_t n, int accumulate) {
#if defined(__x86_64__)
    if (has_avx2()) { relu_backward_avx2(x, g, gx, n, accumulate); return; }
#endif
    relu_backward_body(x, g, gx, n, accumulate);
}
