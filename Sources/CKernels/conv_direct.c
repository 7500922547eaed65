#include "ckernels.h"
#include <stdlib.h>
#include <string.h>

// Direct stride-1 convolution kernels, register-blocked: a block of output
// channels times one or more vectors of eight adjacent output columns lives
// in vector accumulators while the loop walks the kernel (c, ki, kj), so
// every input vector loaded feeds several multiply-adds. For the small
// convolutions of the model zoo (K = C*kh*kw of 25 or 200, 8 or 16 output
// channels) this runs at two to three times the speed sgemm reaches on the
// same products after im2col, and needs no im2col buffer. (The input
// gradient is not done here: as a direct convolution of the output gradient
// padded by k - 1 it mostly multiplies padding; sgemm + col2im is faster.)
//
// Three variants: scalar, AVX2+FMA, and AVX-512VL, which uses the same
// eight-wide vectors but has 32 registers to hold larger blocks (three
// column vectors of eight channels in forward, five kernel columns of four
// channels for the weight gradient). The larger blocks fall back on the
// smaller ones for what is left over, so both code paths run on every
// AVX-512 machine, the test machine included.
//
// Multiply-adds are fused where the variant has FMA, so results differ in
// the last bits between variants, as they do between sgemm kernels.

#pragma STDC FP_CONTRACT ON

typedef float v8 __attribute__((vector_size(32), aligned(4)));

// Macros rather than functions: a function taking or returning a 32-byte
// vector has a different ABI with and without AVX.
#define splat(s) ((v8){(s), (s), (s), (s), (s), (s), (s), (s)})
#define load8(p) (*(const v8 *)(p))
#define store8(p, v) (*(v8 *)(p) = (v))

/// NV vectors of eight output columns (vector j starting at offset xo[j] in
/// each input plane and yo[j] in each output plane) for output channels
/// o0 ..< o0 + OB: NV * OB accumulators.
static inline __attribute__((always_inline)) void
forward_vectors(const float *restrict x, const float *restrict wb, const float *restrict bias, float *restrict yb,
                size_t C, size_t H, size_t W, size_t kh, size_t kw, size_t P, size_t K,
                const size_t *xo, const size_t *yo, size_t o0, const size_t OB, const size_t NV) {
    v8 acc[3][8];
    for (size_t j = 0; j < NV; j++) {
        for (size_t b = 0; b < OB; b++) acc[j][b] = splat(bias ? bias[o0 + b] : 0.0f);
    }
    for (size_t c = 0; c < C; c++) {
        for (size_t ki = 0; ki < kh; ki++) {
            const float *xr = x + (c * H + ki) * W;
            const float *wr = wb + (c * kh + ki) * kw;
            for (size_t kj = 0; kj < kw; kj++) {
                v8 v[3];
                for (size_t j = 0; j < NV; j++) v[j] = load8(xr + xo[j] + kj);
                for (size_t b = 0; b < OB; b++) {
                    const float w = wr[b * K + kj];
                    for (size_t j = 0; j < NV; j++) acc[j][b] += v[j] * w;
                }
            }
        }
    }
    for (size_t j = 0; j < NV; j++) {
        for (size_t b = 0; b < OB; b++) store8(yb + b * P + yo[j], acc[j][b]);
    }
}

/// Output channels o0 ..< o0 + OB of one image: y [O, oh, ow] from x [C, H, W].
/// Each output row is covered by ceil(ow / 8) vectors, the last one ending at
/// the row's end and overlapping the one before when ow % 8 != 0 (the
/// overlapped columns are computed twice, identically). `wide` takes the
/// vectors three at a time.
static inline __attribute__((always_inline)) void
forward_block(const float *restrict x, const float *restrict w, const float *restrict bias, float *restrict y,
              size_t C, size_t H, size_t W, size_t kh, size_t kw, size_t oh, size_t ow, size_t o0,
              const size_t OB, const int wide) {
    const size_t K = C * kh * kw, P = oh * ow;
    const float *wb = w + o0 * K;
    float *yb = y + o0 * P;
    if (ow >= 8) {
        const size_t perRow = (ow + 7) / 8, count = oh * perRow;
        size_t xo[3], yo[3];
        size_t p = 0;
#define CK_POSITION(j, q)                                          \
        do {                                                        \
            size_t oy_ = (q) / perRow, ox_ = (q) % perRow * 8;      \
            if (ox_ + 8 > ow) ox_ = ow - 8;                         \
            xo[j] = oy_ * W + ox_;                                  \
            yo[j] = oy_ * ow + ox_;                                 \
        } while (0)
        if (wide) {
            for (; p + 3 <= count; p += 3) {
                for (size_t j = 0; j < 3; j++) CK_POSITION(j, p + j);
                forward_vectors(x, wb, bias, yb, C, H, W, kh, kw, P, K, xo, yo, o0, OB, 3);
            }
        }
        for (; p < count; p++) {
            CK_POSITION(0, p);
            forward_vectors(x, wb, bias, yb, C, H, W, kh, kw, P, K, xo, yo, o0, OB, 1);
        }
#undef CK_POSITION
        return;
    }
    for (size_t oy = 0; oy < oh; oy++) {  // outputs narrower than a vector, one column at a time
        for (size_t ox = 0; ox < ow; ox++) {
            float acc[8];
            for (size_t b = 0; b < OB; b++) acc[b] = bias ? bias[o0 + b] : 0.0f;
            for (size_t c = 0; c < C; c++) {
                for (size_t ki = 0; ki < kh; ki++) {
                    const float *xr = x + (c * H + oy + ki) * W + ox;
                    const float *wr = wb + (c * kh + ki) * kw;
                    for (size_t kj = 0; kj < kw; kj++) {
                        for (size_t b = 0; b < OB; b++) acc[b] += xr[kj] * wr[b * K + kj];
                    }
                }
            }
            for (size_t b = 0; b < OB; b++) yb[b * P + oy * ow + ox] = acc[b];
        }
    }
}

static inline __attribute__((always_inline)) void
forward_body(const float *restrict x, const float *restrict w, const float *restrict bias, float *restrict y,
             size_t batch, size_t C, size_t H, size_t W, size_t O, size_t kh, size_t kw, const int wide) {
    const size_t oh = H - kh + 1, ow = W - kw + 1;
    for (size_t n = 0; n < batch; n++) {
        const float *xn = x + n * C * H * W;
        float *yn = y + n * O * oh * ow;
        size_t o0 = 0;
        for (; o0 + 8 <= O; o0 += 8) forward_block(xn, w, bias, yn, C, H, W, kh, kw, oh, ow, o0, 8, wide);
        if (O - o0 >= 4) { forward_block(xn, w, bias, yn, C, H, W, kh, kw, oh, ow, o0, 4, wide); o0 += 4; }
        if (O - o0 >= 2) { forward_block(xn, w, bias, yn, C, H, W, kh, kw, oh, ow, o0, 2, wide); o0 += 2; }
        if (O - o0 >= 1) { forward_block(xn, w, bias, yn, C, H, W, kh, kw, oh, ow, o0, 1, wide); }
    }
}

/// The weight gradient for kernels KW wide, rows at least 8 wide: for output
/// channels o0 ..< o0 + OB and each (c, ki), KW * OB accumulators take every
/// kernel column at once, so each vector of g loaded feeds KW multiply-adds.
static inline __attribute__((always_inline)) void
weight_columns(const float *restrict x, const float *restrict gb, float *restrict lanes, size_t C, size_t H,
               size_t W, size_t kh, size_t oh, size_t ow, size_t o0, const size_t OB, const size_t KW) {
    const size_t K = C * kh * KW, P = oh * ow;
    const size_t full = ow / 8 * 8, rest = ow - full;
    v8 mask = splat(0.0f);  // the lanes of the final, overlapping vector not yet counted
    for (size_t l = 0; l < 8; l++) mask[l] = l >= 8 - rest ? 1.0f : 0.0f;
    for (size_t c = 0; c < C; c++) {
        for (size_t ki = 0; ki < kh; ki++) {
            v8 acc[5][4];
            for (size_t kj = 0; kj < KW; kj++) {
                for (size_t b = 0; b < OB; b++) acc[kj][b] = splat(0.0f);
            }
            for (size_t oy = 0; oy < oh; oy++) {
                const float *xr = x + (c * H + oy + ki) * W;
                const float *gr = gb + oy * ow;
                for (size_t ox = 0; ox < full; ox += 8) {
                    v8 g[4];
                    for (size_t b = 0; b < OB; b++) g[b] = load8(gr + b * P + ox);
                    for (size_t kj = 0; kj < KW; kj++) {
                        v8 v = load8(xr + ox + kj);
                        for (size_t b = 0; b < OB; b++) acc[kj][b] += g[b] * v;
                    }
                }
                if (rest > 0) {
                    const size_t ox = ow - 8;
                    v8 g[4];
                    for (size_t b = 0; b < OB; b++) g[b] = load8(gr + b * P + ox) * mask;
                    for (size_t kj = 0; kj < KW; kj++) {
                        v8 v = load8(xr + ox + kj);
                        for (size_t b = 0; b < OB; b++) acc[kj][b] += g[b] * v;
                    }
                }
            }
            for (size_t kj = 0; kj < KW; kj++) {
                for (size_t b = 0; b < OB; b++) {
                    float *l = lanes + ((o0 + b) * K + (c * kh + ki) * KW + kj) * 8;
                    store8(l, load8(l) + acc[kj][b]);
                }
            }
        }
    }
}

/// For output channels o0 ..< o0 + OB and every kernel element k = (c, ki, kj)
/// of one image: lanes[o][k] += eight lane-wise partial sums of g[o] times the
/// input shifted by (ki, kj).
static inline __attribute__((always_inline)) void
weight_block(const float *restrict x, const float *restrict g, float *restrict lanes, size_t C, size_t H,
             size_t W, size_t kh, size_t kw, size_t oh, size_t ow, size_t o0, const size_t OB) {
    const size_t K = C * kh * kw, P = oh * ow;
    const float *gb = g + o0 * P;
    // Rows whose width is not a multiple of 8 end with the final eight
    // columns again, with the lanes already counted masked off.
    const size_t full = ow / 8 * 8, rest = ow - full;
    v8 mask = splat(0.0f);
    for (size_t l = 0; l < 8; l++) mask[l] = l >= 8 - rest ? 1.0f : 0.0f;
    for (size_t c = 0; c < C; c++) {
        for (size_t ki = 0; ki < kh; ki++) {
            for (size_t kj = 0; kj < kw; kj++) {
                const size_t k = (c * kh + ki) * kw + kj;
                v8 acc[8];
                float tail[8];
                for (size_t b = 0; b < OB; b++) {
                    acc[b] = splat(0.0f);
                    tail[b] = 0.0f;
                }
                for (size_t oy = 0; oy < oh; oy++) {
                    const float *xr = x + (c * H + oy + ki) * W + kj;
                    const float *gr = gb + oy * ow;
                    for (size_t ox = 0; ox < full; ox += 8) {
                        v8 v = load8(xr + ox);
                        for (size_t b = 0; b < OB; b++) acc[b] += load8(gr + b * P + ox) * v;
                    }
                    if (rest > 0 && full > 0) {
                        v8 v = load8(xr + ow - 8) * mask;
                        for (size_t b = 0; b < OB; b++) acc[b] += load8(gr + b * P + ow - 8) * v;
                    } else if (rest > 0) {  // rows narrower than 8
                        for (size_t ox = 0; ox < ow; ox++) {
                            for (size_t b = 0; b < OB; b++) tail[b] += gr[b * P + ox] * xr[ox];
                        }
                    }
                }
                for (size_t b = 0; b < OB; b++) {
                    float *l = lanes + ((o0 + b) * K + k) * 8;
                    acc[b][0] += tail[b];
                    store8(l, load8(l) + acc[b]);
                }
            }
        }
    }
}

static inline __attribute__((always_inline)) void
weight_body(const float *restrict x, const float *restrict g, float *restrict lanes, size_t batch, size_t C,
            size_t H, size_t W, size_t O, size_t kh, size_t kw, const int wide) {
    const size_t oh = H - kh + 1, ow = W - kw + 1;
    for (size_t n = 0; n < batch; n++) {
        const float *xn = x + n * C * H * W;
        const float *gn = g + n * O * oh * ow;
        size_t o0 = 0;
        if (wide && ow >= 8 && (kw == 5 || kw == 3)) {
#define CK_WEIGHT_COLUMNS(OB)                                                                                   \
            (kw == 5 ? weight_columns(xn, gn + o0 * oh * ow, lanes, C, H, W, kh, oh, ow, o0, OB, 5)             \
                     : weight_columns(xn, gn + o0 * oh * ow, lanes, C, H, W, kh, oh, ow, o0, OB, 3))
            for (; o0 + 4 <= O; o0 += 4) CK_WEIGHT_COLUMNS(4);
            if (O - o0 >= 2) { CK_WEIGHT_COLUMNS(2); o0 += 2; }
            if (O - o0 >= 1) { CK_WEIGHT_COLUMNS(1); }
#undef CK_WEIGHT_COLUMNS
            continue;
        }
        for (; o0 + 8 <= O; o0 += 8) weight_block(xn, gn, lanes, C, H, W, kh, kw, oh, ow, o0, 8);
        if (O - o0 >= 4) { weight_block(xn, gn, lanes, C, H, W, kh, kw, oh, ow, o0, 4); o0 += 4; }
        if (O - o0 >= 2) { weight_block(xn, gn, lanes, C, H, W, kh, kw, oh, ow, o0, 2); o0 += 2; }
        if (O - o0 >= 1) { weight_block(xn, gn, lanes, C, H, W, kh, kw, oh, ow, o0, 1); }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void
forward_avx2(const float *restrict x, const float *restrict w, const float *restrict bias, float *restrict y,
             size_t batch, size_t C, size_t H, size_t W, size_t O, size_t kh, size_t kw) {
    forward_body(x, w, bias, y, batch, C, H, W, O, kh, kw, 0);
}
__attribute__((target("avx2,fma"))) static void
weight_avx2(const float *restrict x, const float *restrict g, float *restrict lanes, size_t batch, size_t C,
            size_t H, size_t W, size_t O, size_t kh, size_t kw) {
    weight_body(x, g, lanes, batch, C, H, W, O, kh, kw, 0);
}
__attribute__((target("avx2,fma,avx512f,avx512vl"))) static void
forward_avx512(const float *restrict x, const float *restrict w, const float *restrict bias, float *restrict y,
               size_t batch, size_t C, size_t H, size_t W, size_t O, size_t kh, size_t kw) {
    forward_body(x, w, bias, y, batch, C, H, W, O, kh, kw, 1);
}
__attribute__((target("avx2,fma,avx512f,avx512vl"))) static void
weight_avx512(const float *restrict x, const float *restrict g, float *restrict lanes, size_t batch, size_t C,
              size_t H, size_t W, size_t O, size_t kh, size_t kw) {
    weight_body(x, g, lanes, batch, C, H, W, O, kh, kw, 1);
}
/// 2 with AVX-512VL, 1 with AVX2 and FMA, 0 otherwise; CKERNELS_ISA=avx2 or
/// =scalar in the environment caps it, so tests can run the other variants.
static int isa_level(void) {
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
}
#endif

void ck_conv2d_forward(const float *restrict x, const float *restrict w, const float *restrict bias,
                       float *restrict y, size_t batch, size_t channels, size_t height, size_t width,
                       size_t out_channels, size_t kh, size_t kw) {
#if defined(__x86_64__)
    switch (isa_level()) {
    case 2: forward_avx512(x, w, bias, y, batch, channels, height, width, out_channels, kh, kw); return;
    case 1: forward_avx2(x, w, bias, y, batch, channels, height, width, out_channels, kh, kw); return;
    default: break;
    }
#endif
    forward_body(x, w, bias, y, batch, channels, height, width, out_channels, kh, kw, 0);
}

int ck_conv2d_backward_weight(const float *restrict x, const float *restrict g, float *restrict dw,
                              size_t batch, size_t channels, size_t height, size_t width, size_t out_channels,
                              size_t kh, size_t kw) {
    const size_t n = out_channels * channels * kh * kw;
    // Eight partial sums per weight, summed once for the whole batch.
    float *lanes = aligned_alloc(64, ((n * 8 * sizeof(float) + 63) / 64) * 64);
    if (!lanes) return -1;
    for (size_t i = 0; i < n * 8; i++) lanes[i] = 0.0f;
#if defined(__x86_64__)
    switch (isa_level()) {
    case 2: weight_avx512(x, g, lanes, batch, channels, height, width, out_channels, kh, kw); break;
    case 1: weight_avx2(x, g, lanes, batch, channels, height, width, out_channels, kh, kw); break;
    default: weight_body(x, g, lanes, batch, channels, height, width, out_channels, kh, kw, 0); break;
    }
#else
    weight_body(x, g, lanes, batch, channels, height, width, out_channels, kh, kw, 0);
#endif
    for (size_t i = 0; i < n; i++) {
        const float *l = lanes + i * 8;
        dw[i] += ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    }
    free(lanes);
    return 0;
}

void ck_pad2d(const float *restrict x, float *restrict padded, size_t planes, size_t height, size_t width,
              size_t pad_h, size_t pad_w) {
    const size_t pw = width + 2 * pad_w, ph = height + 2 * pad_h;
    for (size_t p = 0; p < planes; p++) {
        const float *src = x + p * height * width;
        float *dst = padded + p * ph * pw;
        for (size_t i = 0; i < pad_h * pw; i++) dst[i] = 0.0f;
        for (size_t r = 0; r < height; r++) {
            float *row = dst + (pad_h + r) * pw;
            for (size_t j = 0; j < pad_w; j++) row[j] = 0.0f;
            for (size_t j = 0; j < width; j++) row[pad_w + j] = src[r * width + j];
            for (size_t j = pad_w + width; j < pw; j++) row[j] = 0.0f;
        }
        for (size_t i = (pad_h + height) * pw; i < ph * pw; i++) dst[i] = 0.0f;
    }
}
