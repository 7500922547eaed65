#include "ckernels.h"
#include "isa_level.h"
#include "strided_range.h"
#include "tap_loops.h"
#include <stdlib.h>
#include <string.h>

// Direct convolution of any kernel size, stride and padding, forward, weight
// gradient and input gradient: no im2col buffer, register-blocked FMA loops
// over lists of kernel taps (tap_loops.h, which conv_winograd.c shares).
//
// Stride phases. The zero-padded input [Hp, Wp] is split into its s*s
// stride phases (a, b), each the plane [Hh, Wh] of the padded pixels
// (s*i + a, s*j + b), Hh = ceil(Hp / s), Wh = ceil(Wp / s) (for stride 1,
// one phase: the padded image). Output (oy, ox) reads padded pixel
// (s*oy + ki, s*ox + kj), which is pixel (oy + ki/s, ox + kj/s) of phase
// (ki % s, kj % s): a stride-1 read. Every kernel tap (c, ki, kj) is then
// one offset into the phase-split image, and computing every flat q in
// [0, Q), Q = (oh - 1)*Wh + ow, with q = oy*Wh + ox, makes each tap one long
// contiguous run over q instead of oh short rows: no per-row tails or index
// arithmetic in the inner loop, and vectors of eight q that cross rows. The
// Wh - ow columns per row that are not outputs (their windows wrap into the
// next row) cost (Wh - ow) / Wh of the work: 7% for 3x3 on 28x28, 13% on
// the 7x7 outputs of a stride-2 layer over 14x14.
//
//   forward  y[o, q]  = bias[o] + sum_t w[o, t] x[c(t), q + offset(t)]
//            over the taps t = (c, ki, kj) in that order, into a scratch
//            [O, Q] whose output columns are then copied into y.
//   weight   dw[o, t] += sum_q g[o, q] x[c(t), q + offset(t)], with g spread
//            to [O, Q], zero in the extra columns.
//   input    the adjoint: padded input pixel (s*i + a, s*j + b) receives
//            sum over o and the taps (ki, kj) = (a + s*u, b + s*v) of phase
//            (a, b) of w[o, c, ki, kj] g[o, i - u, j - v]. Per phase, a
//            forward pass of the same loops with the roles of the channels
//            swapped, over g padded by ceil(k / s) - 1 (a "full"
//            correlation), computing only the phase pixels inside the
//            unpadded input, which are then added into dx.
//
// The stride-1 path was measured on the user-shaped 3x3 layers (32-64
// channels, 14x14 to 32x32) at 1.3-1.6 times the forward and twice the
// weight gradient of row-by-row kernels (60-75 GFLOP/s on one Zen 3 core,
// where sgemm 512^3 reaches 66), and as fast on the model zoo's 5x5 ones.
// For stride 2 it replaced im2col and one sgemm per sample (whose N is
// only the 196 or 49 output pixels): on the 3x3 stride-2 layers of
// user-strided (batch 64, AVX-512) 71-76 GFLOP/s against 60-65 on 14x14
// outputs, 63-73 against 69-71 on 7x7 ones, where Q = 55 and one column
// in eight is not an output (the weight gradient's 63-67 with samples
// grouped, below). Running each stride phase as a separate
// stride-1 convolution had measured 20-30% slower than im2col on such
// layers: its 1x1 and 2x1 sub-kernels reload the accumulators at every
// phase; here all the taps of all phases add into the same registers.
// Images whose Q is under eight take scalar loops.
//
// Register blocks: OB output channels times NV vectors of q in the forward
// loops (6 x 2 with AVX2's 16 registers, where 4 x 3 spilled and ran at 0.6
// of its speed; 8 x 3 with AVX-512VL's 32), OB channels times KC taps in
// the weight gradient (4 x 3 and 8 x 3). The sums run in a fixed order
// that depends on the shapes only: each output adds its taps in list
// order; each weight keeps eight lane sums over q, group of samples after
// group, added up once at the end. Multiply-adds are fused where the variant has
// FMA, so results differ in the last bits between variants, as they do
// between sgemm kernels. (tap_loops.h turns on FP_CONTRACT for this file.)

/// The sizes of one convolution and of its phase-split input.
typedef struct {
    size_t C, H, W, O, kh, kw, s, p;
    size_t oh, ow;  // output
    size_t Hh, Wh;  // one stride phase of the padded input
    size_t Q;       // flat positions per output channel: (oh - 1) Wh + ow
} conv_shape;

static conv_shape make_shape(size_t C, size_t H, size_t W, size_t O, size_t kh, size_t kw, size_t s, size_t p) {
    conv_shape g = {C, H, W, O, kh, kw, s, p, 0, 0, 0, 0, 0};
    g.oh = (H + 2 * p - kh) / s + 1;
    g.ow = (W + 2 * p - kw) / s + 1;
    g.Hh = (H + 2 * p + s - 1) / s;
    g.Wh = (W + 2 * p + s - 1) / s;
    g.Q = (g.oh - 1) * g.Wh + g.ow;
    return g;
}

/// xs [C, s, s, Hh, Wh]: phase (a, b) of channel c holds the padded input's
/// pixels (s*i + a, s*j + b), zero outside the image. Each padded row goes
/// through `line` [s Wh] first, so that splitting it into its s column
/// phases is a loop without bounds (for stride 2 one vector load and a
/// shuffle per eight pixels of each phase).
static inline __attribute__((always_inline)) void
split_phases(const float *restrict x, float *restrict xs, float *restrict line, const conv_shape *g) {
    const size_t s = g->s, Wh = g->Wh, plane = g->Hh * Wh, p = g->p;
    const size_t left = p < s * Wh ? p : s * Wh, right = p + g->W < s * Wh ? p + g->W : s * Wh;
    for (size_t k = 0; k < left; k++) line[k] = 0.0f;
    for (size_t k = right; k < s * Wh; k++) line[k] = 0.0f;
    for (size_t c = 0; c < g->C; c++) {
        const float *xc = x + c * g->H * g->W;
        for (size_t a = 0; a < s; a++) {
            float *phases = xs + (c * s + a) * s * plane;  // phase (a, b) at b * plane
            for (size_t i = 0; i < g->Hh; i++) {
                const ptrdiff_t r = (ptrdiff_t)(s * i + a) - (ptrdiff_t)p;
                if (r < 0 || r >= (ptrdiff_t)g->H) {
                    for (size_t b = 0; b < s; b++) {
                        for (size_t j = 0; j < Wh; j++) phases[b * plane + i * Wh + j] = 0.0f;
                    }
                    continue;
                }
                const float *src = xc + (size_t)r * g->W;
                if (s == 1) {  // the line is the row
                    float *row = phases + i * Wh;
                    for (size_t k = 0; k < left; k++) row[k] = 0.0f;
                    for (size_t k = left; k < right; k++) row[k] = src[k - p];
                    for (size_t k = right; k < Wh; k++) row[k] = 0.0f;
                    continue;
                }
                for (size_t k = left; k < right; k++) line[k] = src[k - p];
                if (s == 2) {
                    float *even = phases + i * Wh, *odd = phases + plane + i * Wh;
                    for (size_t j = 0; j < Wh; j++) {
                        even[j] = line[2 * j];
                        odd[j] = line[2 * j + 1];
                    }
                } else {
                    for (size_t b = 0; b < s; b++) {
                        for (size_t j = 0; j < Wh; j++) phases[b * plane + i * Wh + j] = line[s * j + b];
                    }
                }
            }
        }
    }
}

/// Whether the input is its own phase split (stride 1, no padding): then the
/// loops read it in place instead of a copy (the model zoo's 5x5 layers).
static inline int in_place(const conv_shape *g) { return g->s == 1 && g->p == 0; }

/// Tap t = (c, ki, kj) of the forward and weight loops: its offset in the
/// phase-split image.
static void forward_offsets(const conv_shape *g, size_t *restrict offsets) {
    const size_t s = g->s, plane = g->Hh * g->Wh;
    size_t t = 0;
    for (size_t c = 0; c < g->C; c++) {
        for (size_t ki = 0; ki < g->kh; ki++) {
            for (size_t kj = 0; kj < g->kw; kj++) {
                offsets[t++] = ((c * s + ki % s) * s + kj % s) * plane + (ki / s) * g->Wh + kj / s;
            }
        }
    }
}

// MARK: - The three passes over a batch

/// Scratch for one call, sized for its largest use.
typedef struct {
    float *image;     // the phase-split input (none when read in place), or the padded output gradient
    float *wide;      // [channels, Q]
    float *packed;    // weights by tap
    size_t *offsets;  // tap offsets
    float *lanes;     // the weight gradient's lane sums
    float *line;      // one padded input row
} scratch;

static void release(scratch *m) {
    free(m->image);
    free(m->wide);
    free(m->packed);
    free(m->offsets);
    free(m->lanes);
    free(m->line);
}

static inline __attribute__((always_inline)) void
forward_body(const float *restrict x, const float *restrict bias, float *restrict y, const scratch *m,
             const conv_shape *g, size_t batch, const size_t OB, const size_t NV) {
    const size_t T = g->C * g->kh * g->kw, Q = g->Q;
    for (size_t n = 0; n < batch; n++) {
        const float *image = x + n * g->C * g->H * g->W;  // read in place when it is its own phase split
        if (!in_place(g)) {
            split_phases(image, m->image, m->line, g);
            image = m->image;
        }
        taps_image(image, m->packed, bias, m->wide, m->offsets, T, Q, g->O, OB, NV);
        float *yn = y + n * g->O * g->oh * g->ow;
        for (size_t o = 0; o < g->O; o++) {
            for (size_t oy = 0; oy < g->oh; oy++) {
                const float *src = m->wide + o * Q + oy * g->Wh;
                float *dst = yn + (o * g->oh + oy) * g->ow;
                for (size_t ox = 0; ox < g->ow; ox++) dst[ox] = src[ox];  // rows of 7 to 32: a loop, not memcpy
            }
        }
    }
}

/// Samples per group of the weight gradient: as many as keep the group's
/// images and gradients within 512 KiB (a Zen 1 core's L2), at most eight.
/// Grouping loads and stores the lane sums once per group instead of once
/// per sample: on the 7x7 outputs of a stride-2 layer (Q = 55, seven vectors
/// per sample) it took the weight gradient from 59 to 67 GFLOP/s (AVX-512,
/// three alternated runs); on larger outputs it changes nothing. It depends
/// on the shapes only, so the sums' order does too.
static size_t weight_group_size(const conv_shape *g) {
    const size_t per_sample = g->C * g->s * g->s * g->Hh * g->Wh + g->O * g->Q;
    const size_t fit = (512 * 1024 / sizeof(float)) / per_sample;
    return fit < 1 ? 1 : fit > 8 ? 8 : fit;
}

static inline __attribute__((always_inline)) void
weight_body(const float *restrict x, const float *restrict gy, const scratch *m, const conv_shape *g,
            size_t batch, const size_t OB) {
    const size_t T = g->C * g->kh * g->kw, Q = g->Q, O = g->O, G = weight_group_size(g);
    weight_group group = {m->image, m->wide, g->C * g->s * g->s * g->Hh * g->Wh, O * Q, 0};
    for (size_t n0 = 0; n0 < batch; n0 += G) {
        group.count = batch - n0 < G ? batch - n0 : G;
        if (in_place(g)) group.images = x + n0 * group.image_size;
        for (size_t k = 0; k < group.count; k++) {
            const size_t n = n0 + k;
            if (!in_place(g)) split_phases(x + n * g->C * g->H * g->W, m->image + k * group.image_size, m->line, g);
            // g[n] spread to [O, Q], zero in the columns that are not outputs.
            const float *gn = gy + n * O * g->oh * g->ow;
            float *spread = m->wide + k * group.gradient_size;
            for (size_t o = 0; o < O; o++) {
                for (size_t oy = 0; oy < g->oh; oy++) {
                    float *dst = spread + o * Q + oy * g->Wh;
                    const float *src = gn + (o * g->oh + oy) * g->ow;
                    for (size_t ox = 0; ox < g->ow; ox++) dst[ox] = src[ox];
                    if (oy + 1 < g->oh) {
                        for (size_t ox = g->ow; ox < g->Wh; ox++) dst[ox] = 0.0f;
                    }
                }
            }
        }
        size_t o0 = 0;
        for (; o0 + OB <= O; o0 += OB) weight_block(&group, m->lanes, m->offsets, T, Q, o0, OB);
        for (; o0 + 2 <= O; o0 += 2) weight_block(&group, m->lanes, m->offsets, T, Q, o0, 2);
        if (o0 < O) weight_block(&group, m->lanes, m->offsets, T, Q, o0, 1);
    }
}

/// One stride phase (a, b) of the input gradient: its taps (o, u, v) for
/// kernel element (a + s u, b + s v), and the phase pixels [i0, i0 + ni) x
/// [j0, j0 + nj) that lie inside the unpadded input.
typedef struct {
    size_t a, b, taps, i0, ni, j0, nj, Q;
    const float *packed;    // [taps, C]
    const size_t *offsets;  // into the padded output gradient
} input_phase;

/// The phases of the input gradient, over the output gradient padded by
/// (pt, pl) at the top and left into planes [gh, gw]; packs each phase's
/// weights into `packed` and its offsets into `offsets`. Returns how many
/// phases have work.
static size_t input_phases(const conv_shape *g, const float *restrict w, size_t pt, size_t pl, size_t gh, size_t gw,
                           float *restrict packed, size_t *restrict offsets, input_phase *phases) {
    const size_t s = g->s, C = g->C;
    size_t count = 0;
    for (size_t a = 0; a < s && a < g->kh; a++) {
        for (size_t b = 0; b < s && b < g->kw; b++) {
            input_phase ph = {a, b, 0, 0, 0, 0, 0, 0, packed, offsets};
            const size_t ka = (g->kh - a + s - 1) / s, kb = (g->kw - b + s - 1) / s;
            size_t i1, j1;
            strided_range((ptrdiff_t)a - (ptrdiff_t)g->p, s, g->H, g->Hh, &ph.i0, &i1);
            strided_range((ptrdiff_t)b - (ptrdiff_t)g->p, s, g->W, g->Wh, &ph.j0, &j1);
            ph.ni = i1 - ph.i0;
            ph.nj = j1 - ph.j0;
            if (ph.ni == 0 || ph.nj == 0) continue;
            ph.Q = (ph.ni - 1) * gw + ph.nj;
            // Taps by output channel, then kernel rows and columns from the
            // last (the lowest offset into g) to the first.
            for (size_t o = 0; o < g->O; o++) {
                for (size_t u = ka; u-- > 0;) {
                    for (size_t v = kb; v-- > 0;) {
                        offsets[ph.taps] = o * gh * gw + (pt + ph.i0 - u) * gw + (pl + ph.j0 - v);
                        const float *wo = w + o * C * g->kh * g->kw + (a + s * u) * g->kw + b + s * v;
                        for (size_t c = 0; c < C; c++) packed[ph.taps * C + c] = wo[c * g->kh * g->kw];
                        ph.taps++;
                    }
                }
            }
            packed += ph.taps * C;
            offsets += ph.taps;
            phases[count++] = ph;
        }
    }
    return count;
}

static inline __attribute__((always_inline)) void
input_body(const float *restrict gy, float *restrict dx, const scratch *m, const input_phase *phases, size_t count,
           const conv_shape *g, size_t pt, size_t pl, size_t gh, size_t gw, size_t batch, int accumulate,
           const size_t OB, const size_t NV) {
    const size_t s = g->s, C = g->C, O = g->O;
    for (size_t n = 0; n < batch; n++) {
        // g[n] in a zero border: rows pt ..< pt + oh, columns pl ..< pl + ow.
        const float *gn = gy + n * O * g->oh * g->ow;
        for (size_t o = 0; o < O; o++) {
            float *plane = m->image + o * gh * gw;
            for (size_t i = 0; i < gh * gw; i++) plane[i] = 0.0f;
            for (size_t oy = 0; oy < g->oh; oy++) {
                float *dst = plane + (pt + oy) * gw + pl;
                const float *src = gn + (o * g->oh + oy) * g->ow;
                for (size_t ox = 0; ox < g->ow; ox++) dst[ox] = src[ox];
            }
        }
        float *dxn = dx + n * C * g->H * g->W;
        if (!accumulate) {  // the phases add into it: zeroed here, in cache, not as a pass over the batch
            for (size_t i = 0; i < C * g->H * g->W; i++) dxn[i] = 0.0f;
        }
        for (size_t k = 0; k < count; k++) {
            const input_phase *ph = &phases[k];
            taps_image(m->image, ph->packed, NULL, m->wide, ph->offsets, ph->taps, ph->Q, C, OB, NV);
            // Phase pixel (i0 + i, j0 + j) is input pixel (s (i0 + i) + a - p, s (j0 + j) + b - p).
            const size_t y0 = s * ph->i0 + ph->a - g->p, x0 = s * ph->j0 + ph->b - g->p;
            for (size_t c = 0; c < C; c++) {
                for (size_t i = 0; i < ph->ni; i++) {
                    const float *src = m->wide + c * ph->Q + i * gw;
                    float *dst = dxn + (c * g->H + y0 + s * i) * g->W + x0;
                    if (s == 1) {
                        for (size_t j = 0; j < ph->nj; j++) dst[j] += src[j];
                    } else {
                        for (size_t j = 0; j < ph->nj; j++) dst[s * j] += src[j];
                    }
                }
            }
        }
    }
}

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx2,fma,avx512f,avx512vl")))
AVX2 static void forward_avx2(const float *x, const float *bias, float *y, const scratch *m, const conv_shape *g,
                              size_t batch) {
    forward_body(x, bias, y, m, g, batch, 6, 2);
}
AVX512 static void forward_avx512(const float *x, const float *bias, float *y, const scratch *m, const conv_shape *g,
                                  size_t batch) {
    forward_body(x, bias, y, m, g, batch, 8, 3);
}
AVX2 static void weight_avx2(const float *x, const float *gy, const scratch *m, const conv_shape *g, size_t batch) {
    weight_body(x, gy, m, g, batch, 4);
}
AVX512 static void weight_avx512(const float *x, const float *gy, const scratch *m, const conv_shape *g,
                                 size_t batch) {
    weight_body(x, gy, m, g, batch, 8);
}
AVX2 static void input_avx2(const float *gy, float *dx, const scratch *m, const input_phase *phases, size_t count,
                            const conv_shape *g, size_t pt, size_t pl, size_t gh, size_t gw, size_t batch,
                            int accumulate) {
    input_body(gy, dx, m, phases, count, g, pt, pl, gh, gw, batch, accumulate, 6, 2);
}
AVX512 static void input_avx512(const float *gy, float *dx, const scratch *m, const input_phase *phases,
                                size_t count, const conv_shape *g, size_t pt, size_t pl, size_t gh, size_t gw,
                                size_t batch, int accumulate) {
    input_body(gy, dx, m, phases, count, g, pt, pl, gh, gw, batch, accumulate, 8, 3);
}
#endif

int ck_conv2d_forward(const float *restrict x, const float *restrict w, const float *restrict bias,
                      float *restrict y, size_t batch, size_t channels, size_t height, size_t width,
                      size_t out_channels, size_t kh, size_t kw, size_t stride, size_t padding) {
    const conv_shape g = make_shape(channels, height, width, out_channels, kh, kw, stride, padding);
    const size_t T = channels * kh * kw;
    scratch m = {
        in_place(&g) ? NULL : malloc(channels * stride * stride * g.Hh * g.Wh * sizeof(float)),
        malloc(out_channels * g.Q * sizeof(float)),
        malloc(T * out_channels * sizeof(float)),
        malloc(T * sizeof(size_t)),
        NULL,
        malloc(stride * g.Wh * sizeof(float)),
    };
    if ((!m.image && !in_place(&g)) || !m.wide || !m.packed || !m.offsets || !m.line) {
        release(&m);
        return -1;
    }
    forward_offsets(&g, m.offsets);
    for (size_t o = 0; o < out_channels; o++) {
        for (size_t t = 0; t < T; t++) m.packed[t * out_channels + o] = w[o * T + t];
    }
#if defined(__x86_64__)
    switch (ck_isa_level()) {
    case 2: forward_avx512(x, bias, y, &m, &g, batch); break;
    case 1: forward_avx2(x, bias, y, &m, &g, batch); break;
    default: forward_body(x, bias, y, &m, &g, batch, 6, 2);
    }
#else
    forward_body(x, bias, y, &m, &g, batch, 6, 2);
#endif
    release(&m);
    return 0;
}

int ck_conv2d_backward_weight(const float *restrict x, const float *restrict gy, float *restrict dw,
                              size_t batch, size_t channels, size_t height, size_t width, size_t out_channels,
                              size_t kh, size_t kw, size_t stride, size_t padding) {
    const conv_shape g = make_shape(channels, height, width, out_channels, kh, kw, stride, padding);
    const size_t T = channels * kh * kw, n = out_channels * T;
    const size_t G = weight_group_size(&g);
    scratch m = {
        in_place(&g) ? NULL : malloc(G * channels * stride * stride * g.Hh * g.Wh * sizeof(float)),
        malloc(G * out_channels * g.Q * sizeof(float)),
        NULL,
        malloc(T * sizeof(size_t)),
        aligned_alloc(64, ((n * 8 * sizeof(float) + 63) / 64) * 64),
        malloc(stride * g.Wh * sizeof(float)),
    };
    if ((!m.image && !in_place(&g)) || !m.wide || !m.offsets || !m.lanes || !m.line) {
        release(&m);
        return -1;
    }
    forward_offsets(&g, m.offsets);
    memset(m.lanes, 0, n * 8 * sizeof(float));
#if defined(__x86_64__)
    switch (ck_isa_level()) {
    case 2: weight_avx512(x, gy, &m, &g, batch); break;
    case 1: weight_avx2(x, gy, &m, &g, batch); break;
    default: weight_body(x, gy, &m, &g, batch, 4);
    }
#else
    weight_body(x, gy, &m, &g, batch, 4);
#endif
    for (size_t i = 0; i < n; i++) {
        const float *l = m.lanes + i * 8;
        dw[i] += ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    }
    release(&m);
    return 0;
}

/// The output gradient's padding for the input gradient: ceil(k / s) - 1 at
/// the top and left, and planes tall and wide enough for every phase pixel.
static void input_padding(const conv_shape *g, size_t *pt, size_t *pl, size_t *gh, size_t *gw) {
    *pt = (g->kh + g->s - 1) / g->s - 1;
    *pl = (g->kw + g->s - 1) / g->s - 1;
    *gh = *pt + (g->oh > g->Hh ? g->oh : g->Hh);
    *gw = *pl + (g->ow > g->Wh ? g->ow : g->Wh);
}

int ck_conv2d_backward_input(const float *restrict gy, const float *restrict w, float *restrict dx,
                             size_t batch, size_t channels, size_t height, size_t width, size_t out_channels,
                             size_t kh, size_t kw, size_t stride, size_t padding, int accumulate) {
    const conv_shape g = make_shape(channels, height, width, out_channels, kh, kw, stride, padding);
    size_t pt, pl, gh, gw;
    input_padding(&g, &pt, &pl, &gh, &gw);
    const size_t phase_count = (stride < kh ? stride : kh) * (stride < kw ? stride : kw);
    // The largest phase: at most Hh x Wh pixels, so Q <= (Hh - 1) gw + Wh.
    const size_t wide_q = (g.Hh - 1) * gw + g.Wh;
    scratch m = {
        malloc(out_channels * gh * gw * sizeof(float)),
        malloc(channels * wide_q * sizeof(float)),
        malloc(out_channels * kh * kw * channels * sizeof(float)),
        malloc(out_channels * kh * kw * sizeof(size_t)),
        NULL,
        NULL,
    };
    input_phase *phases = malloc(phase_count * sizeof(input_phase));
    if (!m.image || !m.wide || !m.packed || !m.offsets || !phases) {
        release(&m);
        free(phases);
        return -1;
    }
    const size_t count = input_phases(&g, w, pt, pl, gh, gw, m.packed, m.offsets, phases);
#if defined(__x86_64__)
    switch (ck_isa_level()) {
    case 2: input_avx512(gy, dx, &m, phases, count, &g, pt, pl, gh, gw, batch, accumulate); break;
    case 1: input_avx2(gy, dx, &m, phases, count, &g, pt, pl, gh, gw, batch, accumulate); break;
    default: input_body(gy, dx, &m, phases, count, &g, pt, pl, gh, gw, batch, accumulate, 6, 2);
    }
#else
    input_body(gy, dx, &m, phases, count, &g, pt, pl, gh, gw, batch, accumulate, 6, 2);
#endif
    release(&m);
    free(phases);
    return 0;
}

double ck_conv2d_input_overwork(size_t height, size_t width, size_t kh, size_t kw, size_t stride, size_t padding) {
    const conv_shape g = make_shape(1, height, width, 1, kh, kw, stride, padding);
    double rows = 0, columns = 0;  // products per (o, c) along each axis
    for (size_t a = 0; a < stride && a < kh; a++) {
        size_t lo, hi;
        strided_range((ptrdiff_t)a - (ptrdiff_t)padding, stride, height, g.Hh, &lo, &hi);
        rows += (double)(hi - lo) * (double)((kh - a + stride - 1) / stride);
    }
    for (size_t b = 0; b < stride && b < kw; b++) {
        size_t lo, hi;
        strided_range((ptrdiff_t)b - (ptrdiff_t)padding, stride, width, g.Wh, &lo, &hi);
        columns += (double)(hi - lo) * (double)((kw - b + stride - 1) / stride);
    }
    return rows * columns / ((double)(g.oh * kh) * (double)(g.ow * kw));
}
