#include "ckernels.h"
#include "isa_level.h"
#include <stdlib.h>
#include <string.h>

// Direct stride-1 convolution, forward and weight gradient, over the
// flattened padded image: no im2col buffer, register-blocked FMA loops.
//
// With stride 1, output (oy, ox) reads input (oy + ki, ox + kj) of the padded
// image [Hp, Wp]: at flat offset q + ki*Wp + kj with q = oy*Wp + ox. Computing
// every q in [0, Q), Q = (oh - 1)*Wp + ow, computes the outputs together with
// Wp - ow columns per row that are not outputs (ox >= ow, whose windows wrap
// into the next row), and makes each kernel tap (c, ki, kj) one long
// contiguous run over q instead of oh short rows: no per-row tails or index
// arithmetic in the inner loop, and vectors of eight q that cross rows. The
// extra columns cost (kw - 1) / Wp of the work (7% for 3x3 on 28x28). On
// the user-shaped 3x3 layers (32-64 channels, 14x14 to 32x32) this ran at
// 1.3-1.6 times the forward and twice the weight gradient of the row-by-row
// kernels it replaced (60-75 GFLOP/s on one Zen 3 core, where sgemm 512^3
// reaches 66), and as fast on the model zoo's 5x5 ones. Images whose Q is
// under eight take a scalar loop. (Other strides stay on im2col and sgemm:
// splitting the input into its stride phases, each a stride-1 convolution
// here, measured 20-30% slower on 3x3 stride-2 layers of 14x14 and 7x7
// outputs, whose phases are too small for these loops.)
//
//   forward  y[o, q]     = bias[o] + sum_{c,ki,kj} w[o, c, ki, kj] x[c, q + ki*Wp + kj]
//            into a scratch [O, Q], whose output columns are then copied (or
//            added) into y [O, oh, ow]. The input gradient of a stride-1
//            convolution is this forward over the output gradient padded by
//            k - 1 - padding, with the weight transposed and flipped.
//   weight   dw[o, c, ki, kj] += sum_q g[o, q] x[c, q + ki*Wp + kj], with g the
//            output gradient spread to [O, Q] and zero in the extra columns.
//
// Register blocks: OB output channels times NV vectors of q in forward (6 x 2
// with AVX2's 16 registers, where 4 x 3 spilled and ran at 0.6 of its speed;
// 8 x 3 with AVX-512VL's 32), OB channels times KC kernel columns in the
// weight gradient (4 x 3 and 8 x 3). The sums
// run in a fixed order that depends on the shapes only: each output adds its
// taps in (c, ki, kj) order; each weight keeps eight lane sums over q, sample
// after sample, added up once at the end. Multiply-adds are fused where the
// variant has FMA, so results differ in the last bits between variants, as
// they do between sgemm kernels.

#pragma STDC FP_CONTRACT ON

typedef float v8 __attribute__((vector_size(32), aligned(4)));

#define splat(s) ((v8){(s), (s), (s), (s), (s), (s), (s), (s)})
#define load8(p) (*(const v8 *)(p))
#define store8(p, v) (*(v8 *)(p) = (v))

/// Vectors q0, q0 + 8, ..., q0 + 8 (NV - 1) of output channels o0 ..< o0 + OB
/// of one image into `wide` [O, Q]. `rows` [C*kh] holds the offset in x of
/// each kernel row (c, ki); KW is kw where the caller made it a constant, so
/// that the taps of a row unroll.
static inline __attribute__((always_inline)) void
flat_forward_vectors(const float *restrict x, const float *restrict w, const float *restrict bias,
                     float *restrict wide, const size_t *restrict rows, size_t R, const size_t KW, size_t Q,
                     size_t q0, size_t o0, const size_t OB, const size_t NV) {
    const size_t K = R * KW;
    v8 acc[3][8];
    for (size_t j = 0; j < NV; j++) {
        for (size_t b = 0; b < OB; b++) acc[j][b] = splat(bias ? bias[o0 + b] : 0.0f);
    }
    const float *wb = w + o0 * K;
    for (size_t r = 0; r < R; r++) {
        const float *xr = x + rows[r] + q0;
        const float *wr = wb + r * KW;
        for (size_t kj = 0; kj < KW; kj++) {
            v8 v[3];
            for (size_t j = 0; j < NV; j++) v[j] = load8(xr + kj + 8 * j);
            for (size_t b = 0; b < OB; b++) {
                const v8 s = splat(wr[b * K + kj]);
                for (size_t j = 0; j < NV; j++) acc[j][b] += v[j] * s;
            }
        }
    }
    for (size_t j = 0; j < NV; j++) {
        for (size_t b = 0; b < OB; b++) store8(wide + (o0 + b) * Q + q0 + 8 * j, acc[j][b]);
    }
}

/// Output channels o0 ..< o0 + OB of one image: NV vectors at a time, then
/// one at a time; the last vector ends at Q and overlaps the one before
/// (its columns are computed twice, identically).
static inline __attribute__((always_inline)) void
flat_forward_block(const float *restrict x, const float *restrict w, const float *restrict bias,
                   float *restrict wide, const size_t *restrict rows, size_t R, const size_t KW, size_t Q,
                   size_t o0, const size_t OB, const size_t NV) {
    if (Q < 8) {  // too small for one vector
        const size_t K = R * KW;
        for (size_t b = 0; b < OB; b++) {
            for (size_t q = 0; q < Q; q++) {
                float acc = bias ? bias[o0 + b] : 0.0f;
                for (size_t r = 0; r < R; r++) {
                    for (size_t kj = 0; kj < KW; kj++) acc += w[(o0 + b) * K + r * KW + kj] * x[rows[r] + q + kj];
                }
                wide[(o0 + b) * Q + q] = acc;
            }
        }
        return;
    }
    size_t q = 0;
    for (; q + 8 * NV <= Q; q += 8 * NV) flat_forward_vectors(x, w, bias, wide, rows, R, KW, Q, q, o0, OB, NV);
    for (; q < Q; q += 8) {
        flat_forward_vectors(x, w, bias, wide, rows, R, KW, Q, q + 8 <= Q ? q : Q - 8, o0, OB, 1);
    }
}

/// Every output channel of one image, OB at a time, then four, two and one.
static inline __attribute__((always_inline)) void
flat_forward_image(const float *restrict x, const float *restrict w, const float *restrict bias,
                   float *restrict wide, const size_t *restrict rows, size_t R, const size_t KW, size_t Q, size_t O,
                   const size_t OB, const size_t NV) {
    size_t o0 = 0;
    for (; o0 + OB <= O; o0 += OB) flat_forward_block(x, w, bias, wide, rows, R, KW, Q, o0, OB, NV);
    if (O - o0 >= 4) { flat_forward_block(x, w, bias, wide, rows, R, KW, Q, o0, 4, NV); o0 += 4; }
    if (O - o0 >= 2) { flat_forward_block(x, w, bias, wide, rows, R, KW, Q, o0, 2, NV); o0 += 2; }
    if (O - o0 >= 1) flat_forward_block(x, w, bias, wide, rows, R, KW, Q, o0, 1, NV);
}

static inline __attribute__((always_inline)) void
flat_forward_body(const float *restrict x, const float *restrict w, const float *restrict bias, float *restrict y,
                  float *restrict wide, size_t *restrict rows, size_t batch, size_t C, size_t Hp, size_t Wp,
                  size_t O, size_t kh, size_t kw, int accumulate, const size_t OB, const size_t NV) {
    const size_t oh = Hp - kh + 1, ow = Wp - kw + 1, Q = (oh - 1) * Wp + ow, R = C * kh;
    for (size_t c = 0; c < C; c++) {
        for (size_t ki = 0; ki < kh; ki++) rows[c * kh + ki] = c * Hp * Wp + ki * Wp;
    }
    for (size_t n = 0; n < batch; n++) {
        const float *xn = x + n * C * Hp * Wp;
        switch (kw) {  // the common widths as constants
        case 1: flat_forward_image(xn, w, bias, wide, rows, R, 1, Q, O, OB, NV); break;
        case 3: flat_forward_image(xn, w, bias, wide, rows, R, 3, Q, O, OB, NV); break;
        case 5: flat_forward_image(xn, w, bias, wide, rows, R, 5, Q, O, OB, NV); break;
        default: flat_forward_image(xn, w, bias, wide, rows, R, kw, Q, O, OB, NV); break;
        }
        float *yn = y + n * O * oh * ow;
        for (size_t o = 0; o < O; o++) {
            for (size_t oy = 0; oy < oh; oy++) {
                const float *src = wide + o * Q + oy * Wp;
                float *dst = yn + (o * oh + oy) * ow;
                if (accumulate) {
                    for (size_t ox = 0; ox < ow; ox++) dst[ox] += src[ox];
                } else {  // a loop, not memcpy: rows are short (8 to 32 floats)
                    for (size_t ox = 0; ox < ow; ox++) dst[ox] = src[ox];
                }
            }
        }
    }
}

/// Kernel columns kj0 ..< kj0 + KC of output channels o0 ..< o0 + OB, every
/// (c, ki), of one image: each x vector loaded feeds OB multiply-adds, each g
/// vector KC.
static inline __attribute__((always_inline)) void
flat_weight_columns(const float *restrict x, const float *restrict g, float *restrict lanes, size_t C,
                    size_t Hp, size_t Wp, size_t kh, size_t kw, size_t Q, size_t o0, size_t kj0,
                    const size_t OB, const size_t KC) {
    const size_t K = C * kh * kw, plane = Hp * Wp;
    const size_t full = Q / 8 * 8, rest = Q - full;
    v8 mask = splat(0.0f);  // the lanes of the final, overlapping vector not yet counted
    for (size_t l = 0; l < 8; l++) mask[l] = l >= 8 - rest ? 1.0f : 0.0f;
    const float *gb = g + o0 * Q;
    if (Q < 8) {  // too small for one vector: lane 0 takes the sum
        for (size_t c = 0; c < C; c++) {
            for (size_t ki = 0; ki < kh; ki++) {
                const float *xr = x + c * plane + ki * Wp + kj0;
                for (size_t j = 0; j < KC; j++) {
                    for (size_t b = 0; b < OB; b++) {
                        float acc = 0.0f;
                        for (size_t q = 0; q < Q; q++) acc += gb[b * Q + q] * xr[q + j];
                        lanes[((o0 + b) * K + (c * kh + ki) * kw + kj0 + j) * 8] += acc;
                    }
                }
            }
        }
        return;
    }
    for (size_t c = 0; c < C; c++) {
        for (size_t ki = 0; ki < kh; ki++) {
            const float *xr = x + c * plane + ki * Wp + kj0;
            v8 acc[3][8];
            for (size_t j = 0; j < KC; j++) {
                for (size_t b = 0; b < OB; b++) acc[j][b] = splat(0.0f);
            }
            for (size_t q = 0; q < full; q += 8) {
                v8 v[3];
                for (size_t j = 0; j < KC; j++) v[j] = load8(xr + q + j);
                for (size_t b = 0; b < OB; b++) {
                    const v8 gv = load8(gb + b * Q + q);
                    for (size_t j = 0; j < KC; j++) acc[j][b] += gv * v[j];
                }
            }
            if (rest > 0) {
                const size_t q = Q - 8;
                v8 v[3];
                for (size_t j = 0; j < KC; j++) v[j] = load8(xr + q + j);
                for (size_t b = 0; b < OB; b++) {
                    const v8 gv = load8(gb + b * Q + q) * mask;
                    for (size_t j = 0; j < KC; j++) acc[j][b] += gv * v[j];
                }
            }
            for (size_t j = 0; j < KC; j++) {
                for (size_t b = 0; b < OB; b++) {
                    float *l = lanes + ((o0 + b) * K + (c * kh + ki) * kw + kj0 + j) * 8;
                    store8(l, load8(l) + acc[j][b]);
                }
            }
        }
    }
}

/// Output channels o0 ..< o0 + OB, all kernel columns: three at a time, then
/// the one or two left.
static inline __attribute__((always_inline)) void
flat_weight_block(const float *restrict x, const float *restrict g, float *restrict lanes, size_t C, size_t Hp,
                  size_t Wp, size_t kh, size_t kw, size_t Q, size_t o0, const size_t OB) {
    size_t kj = 0;
    for (; kj + 3 <= kw; kj += 3) flat_weight_columns(x, g, lanes, C, Hp, Wp, kh, kw, Q, o0, kj, OB, 3);
    if (kw - kj == 2) flat_weight_columns(x, g, lanes, C, Hp, Wp, kh, kw, Q, o0, kj, OB, 2);
    if (kw - kj == 1) flat_weight_columns(x, g, lanes, C, Hp, Wp, kh, kw, Q, o0, kj, OB, 1);
}

static inline __attribute__((always_inline)) void
flat_weight_body(const float *restrict x, const float *restrict g, float *restrict lanes, float *restrict wide,
                 size_t batch, size_t C, size_t Hp, size_t Wp, size_t O, size_t kh, size_t kw, const size_t OB) {
    const size_t oh = Hp - kh + 1, ow = Wp - kw + 1, Q = (oh - 1) * Wp + ow;
    for (size_t n = 0; n < batch; n++) {
        const float *gn = g + n * O * oh * ow;
        // g[n] spread to [O, Q], zero in the columns that are not outputs.
        for (size_t o = 0; o < O; o++) {
            for (size_t oy = 0; oy < oh; oy++) {
                float *dst = wide + o * Q + oy * Wp;
                memcpy(dst, gn + (o * oh + oy) * ow, ow * sizeof(float));
                if (oy + 1 < oh) memset(dst + ow, 0, (Wp - ow) * sizeof(float));
            }
        }
        const float *xn = x + n * C * Hp * Wp;
        size_t o0 = 0;
        for (; o0 + OB <= O; o0 += OB) flat_weight_block(xn, wide, lanes, C, Hp, Wp, kh, kw, Q, o0, OB);
        for (; o0 + 2 <= O; o0 += 2) flat_weight_block(xn, wide, lanes, C, Hp, Wp, kh, kw, Q, o0, 2);
        if (o0 < O) flat_weight_block(xn, wide, lanes, C, Hp, Wp, kh, kw, Q, o0, 1);
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void
flat_forward_avx2(const float *restrict x, const float *restrict w, const float *restrict bias, float *restrict y,
                  float *restrict wide, size_t *restrict rows, size_t batch, size_t C, size_t Hp, size_t Wp, size_t O, size_t kh, size_t kw,
                  int accumulate) {
    flat_forward_body(x, w, bias, y, wide, rows, batch, C, Hp, Wp, O, kh, kw, accumulate, 6, 2);
}
__attribute__((target("avx2,fma,avx512f,avx512vl"))) static void
flat_forward_avx512(const float *restrict x, const float *restrict w, const float *restrict bias,
                    float *restrict y, float *restrict wide, size_t *restrict rows, size_t batch, size_t C, size_t Hp, size_t Wp, size_t O,
                    size_t kh, size_t kw, int accumulate) {
    flat_forward_body(x, w, bias, y, wide, rows, batch, C, Hp, Wp, O, kh, kw, accumulate, 8, 3);
}
__attribute__((target("avx2,fma"))) static void
flat_weight_avx2(const float *restrict x, const float *restrict g, float *restrict lanes, float *restrict wide,
                 size_t batch, size_t C, size_t Hp, size_t Wp, size_t O, size_t kh, size_t kw) {
    flat_weight_body(x, g, lanes, wide, batch, C, Hp, Wp, O, kh, kw, 4);
}
__attribute__((target("avx2,fma,avx512f,avx512vl"))) static void
flat_weight_avx512(const float *restrict x, const float *restrict g, float *restrict lanes, float *restrict wide,
                   size_t batch, size_t C, size_t Hp, size_t Wp, size_t O, size_t kh, size_t kw) {
    flat_weight_body(x, g, lanes, wide, batch, C, Hp, Wp, O, kh, kw, 8);
}
#endif

int ck_conv2d_forward(const float *restrict x, const float *restrict w, const float *restrict bias,
                      float *restrict y, size_t batch, size_t channels, size_t height, size_t width,
                      size_t out_channels, size_t kh, size_t kw, int accumulate) {
    const size_t oh = height - kh + 1, ow = width - kw + 1, Q = (oh - 1) * width + ow;
    float *wide = malloc(out_channels * Q * sizeof(float));
    size_t *rows = malloc(channels * kh * sizeof(size_t));
    if (!wide || !rows) {
        free(wide);
        free(rows);
        return -1;
    }
#if defined(__x86_64__)
    switch (ck_isa_level()) {
    case 2:
        flat_forward_avx512(x, w, bias, y, wide, rows, batch, channels, height, width, out_channels, kh, kw, accumulate);
        break;
    case 1:
        flat_forward_avx2(x, w, bias, y, wide, rows, batch, channels, height, width, out_channels, kh, kw, accumulate);
        break;
    default:
        flat_forward_body(x, w, bias, y, wide, rows, batch, channels, height, width, out_channels, kh, kw, accumulate, 6, 2);
    }
#else
    flat_forward_body(x, w, bias, y, wide, rows, batch, channels, height, width, out_channels, kh, kw, accumulate, 6, 2);
#endif
    free(wide);
    free(rows);
    return 0;
}

int ck_conv2d_backward_weight(const float *restrict x, const float *restrict g, float *restrict dw,
                              size_t batch, size_t channels, size_t height, size_t width, size_t out_channels,
                              size_t kh, size_t kw) {
    const size_t n = out_channels * channels * kh * kw;
    const size_t oh = height - kh + 1, ow = width - kw + 1, Q = (oh - 1) * width + ow;
    float *lanes = aligned_alloc(64, ((n * 8 * sizeof(float) + 63) / 64) * 64);
    float *wide = malloc(out_channels * Q * sizeof(float));
    if (!lanes || !wide) {
        free(lanes);
        free(wide);
        return -1;
    }
    memset(lanes, 0, n * 8 * sizeof(float));
#if defined(__x86_64__)
    switch (ck_isa_level()) {
    case 2: flat_weight_avx512(x, g, lanes, wide, batch, channels, height, width, out_channels, kh, kw); break;
    case 1: flat_weight_avx2(x, g, lanes, wide, batch, channels, height, width, out_channels, kh, kw); break;
    default: flat_weight_body(x, g, lanes, wide, batch, channels, height, width, out_channels, kh, kw, 4);
    }
#else
    flat_weight_body(x, g, lanes, wide, batch, channels, height, width, out_channels, kh, kw, 4);
#endif
    for (size_t i = 0; i < n; i++) {
        const float *l = lanes + i * 8;
        dw[i] += ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    }
    free(lanes);
    free(wide);
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
