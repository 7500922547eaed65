#pragma once
#include <stddef.h>

// The register-blocked loops that the direct convolution (conv_direct.c) and
// the Winograd convolution (conv_winograd.c) both run: wide [O, Q] = bias +
// sum over taps t of packed[t, o] x[offsets[t] + q], and their adjoint for
// weights, lanes[o, t] += sum over q of g[o, q] x[offsets[t] + q] (eight
// lane sums per weight, added up by the caller). For the direct kernels a
// tap is one kernel element (c, ki, kj) over the phase-split image; for
// Winograd's sixteen products it is one input channel over a block of
// transformed tiles. Each output adds its taps in list order, with fused
// multiply-adds where the variant has FMA: the order, and so the bits,
// depend on the shapes only, never on where a column falls in its vector.
//
// Every function is inlined into the caller's AVX-512, AVX2 or plain
// variant, which fixes the register block: OB output channels times NV
// vectors of eight columns.
//
// The pragma below is meant for the includer too: it fuses multiply-adds
// for the rest of the including file, whose own loops rely on it.

#pragma STDC FP_CONTRACT ON

typedef float v8 __attribute__((vector_size(32), aligned(4)));

#define splat(s) ((v8){(s), (s), (s), (s), (s), (s), (s), (s)})
#define load8(p) (*(const v8 *)(p))
#define store8(p, v) (*(v8 *)(p) = (v))

/// Vectors q0, q0 + 8, ..., q0 + 8 (NV - 1) of channels o0 ..< o0 + OB of
/// `wide` [O, Q]: bias (or 0) plus, tap after tap, packed[t, o] times x at
/// offsets[t] + q. `packed` is [T, O]: each tap's OB weights lie together.
static inline __attribute__((always_inline)) void
taps_vectors(const float *restrict x, const float *restrict packed, size_t O, const float *restrict bias,
             float *restrict wide, const size_t *restrict offsets, size_t T, size_t Q, size_t q0, size_t o0,
             const size_t OB, const size_t NV) {
    v8 acc[3][8];
    for (size_t j = 0; j < NV; j++) {
        for (size_t b = 0; b < OB; b++) acc[j][b] = splat(bias ? bias[o0 + b] : 0.0f);
    }
    const float *wb = packed + o0;
    for (size_t t = 0; t < T; t++) {
        const float *xt = x + offsets[t] + q0;
        const float *wt = wb + t * O;
        v8 v[3];
        for (size_t j = 0; j < NV; j++) v[j] = load8(xt + 8 * j);
        for (size_t b = 0; b < OB; b++) {
            const v8 s = splat(wt[b]);
            for (size_t j = 0; j < NV; j++) acc[j][b] += v[j] * s;
        }
    }
    for (size_t j = 0; j < NV; j++) {
        for (size_t b = 0; b < OB; b++) store8(wide + (o0 + b) * Q + q0 + 8 * j, acc[j][b]);
    }
}

/// Channels o0 ..< o0 + OB: NV vectors at a time, then one at a time; the
/// last vector ends at Q and overlaps the one before (its columns are
/// computed twice, identically).
static inline __attribute__((always_inline)) void
taps_block(const float *restrict x, const float *restrict packed, size_t O, const float *restrict bias,
           float *restrict wide, const size_t *restrict offsets, size_t T, size_t Q, size_t o0, const size_t OB,
           const size_t NV) {
    if (Q < 8) {  // too small for one vector
        for (size_t b = 0; b < OB; b++) {
            for (size_t q = 0; q < Q; q++) {
                float acc = bias ? bias[o0 + b] : 0.0f;
                for (size_t t = 0; t < T; t++) acc += packed[t * O + o0 + b] * x[offsets[t] + q];
                wide[(o0 + b) * Q + q] = acc;
            }
        }
        return;
    }
    size_t q = 0;
    for (; q + 8 * NV <= Q; q += 8 * NV) taps_vectors(x, packed, O, bias, wide, offsets, T, Q, q, o0, OB, NV);
    for (; q < Q; q += 8) taps_vectors(x, packed, O, bias, wide, offsets, T, Q, q + 8 <= Q ? q : Q - 8, o0, OB, 1);
}

/// wide [O, Q] = bias + the taps over x: OB channels at a time, then four,
/// two and one.
static inline __attribute__((always_inline)) void
taps_image(const float *restrict x, const float *restrict packed, const float *restrict bias, float *restrict wide,
           const size_t *restrict offsets, size_t T, size_t Q, size_t O, const size_t OB, const size_t NV) {
    size_t o0 = 0;
    for (; o0 + OB <= O; o0 += OB) taps_block(x, packed, O, bias, wide, offsets, T, Q, o0, OB, NV);
    if (O - o0 >= 4) { taps_block(x, packed, O, bias, wide, offsets, T, Q, o0, 4, NV); o0 += 4; }
    if (O - o0 >= 2) { taps_block(x, packed, O, bias, wide, offsets, T, Q, o0, 2, NV); o0 += 2; }
    if (O - o0 >= 1) taps_block(x, packed, O, bias, wide, offsets, T, Q, o0, 1, NV);
}

/// The images and output gradients [O, Q] that the weight loops run over
/// together: for the direct kernels a group of samples' phase-split images
/// and spread gradients; for Winograd one tile element's transformed inputs
/// and gradients of a block of tiles.
typedef struct {
    const float *images, *gradients;
    size_t image_size, gradient_size, count;
} weight_group;

/// Taps t0 ..< t0 + KC of channels o0 ..< o0 + OB, over a group of images:
/// each x vector loaded feeds OB multiply-adds, each g vector KC; lanes [O, T,
/// 8] take the sums once per group.
static inline __attribute__((always_inline)) void
weight_taps(const weight_group *restrict group, float *restrict lanes, const size_t *restrict offsets, size_t T,
            size_t Q, size_t o0, size_t t0, const size_t OB, const size_t KC) {
    if (Q < 8) {  // too small for one vector: lane 0 takes the sum
        for (size_t j = 0; j < KC; j++) {
            for (size_t b = 0; b < OB; b++) {
                float acc = 0.0f;
                for (size_t n = 0; n < group->count; n++) {
                    const float *xt = group->images + n * group->image_size + offsets[t0 + j];
                    const float *gb = group->gradients + n * group->gradient_size + (o0 + b) * Q;
                    for (size_t q = 0; q < Q; q++) acc += gb[q] * xt[q];
                }
                lanes[((o0 + b) * T + t0 + j) * 8] += acc;
            }
        }
        return;
    }
    const size_t full = Q / 8 * 8, rest = Q - full;
    v8 mask = splat(0.0f);  // the lanes of the final, overlapping vector not yet counted
    for (size_t l = 0; l < 8; l++) mask[l] = l >= 8 - rest ? 1.0f : 0.0f;
    v8 acc[3][8];
    for (size_t j = 0; j < KC; j++) {
        for (size_t b = 0; b < OB; b++) acc[j][b] = splat(0.0f);
    }
    for (size_t n = 0; n < group->count; n++) {
        const float *x = group->images + n * group->image_size;
        const float *gb = group->gradients + n * group->gradient_size + o0 * Q;
        const float *xt[3];
        for (size_t j = 0; j < KC; j++) xt[j] = x + offsets[t0 + j];
        for (size_t q = 0; q < full; q += 8) {
            v8 v[3];
            for (size_t j = 0; j < KC; j++) v[j] = load8(xt[j] + q);
            for (size_t b = 0; b < OB; b++) {
                const v8 gv = load8(gb + b * Q + q);
                for (size_t j = 0; j < KC; j++) acc[j][b] += gv * v[j];
            }
        }
        if (rest > 0) {
            const size_t q = Q - 8;
            v8 v[3];
            for (size_t j = 0; j < KC; j++) v[j] = load8(xt[j] + q);
            for (size_t b = 0; b < OB; b++) {
                const v8 gv = load8(gb + b * Q + q) * mask;
                for (size_t j = 0; j < KC; j++) acc[j][b] += gv * v[j];
            }
        }
    }
    for (size_t j = 0; j < KC; j++) {
        for (size_t b = 0; b < OB; b++) {
            float *l = lanes + ((o0 + b) * T + t0 + j) * 8;
            store8(l, load8(l) + acc[j][b]);
        }
    }
}

/// Channels o0 ..< o0 + OB, every tap: three at a time, then the one or two left.
static inline __attribute__((always_inline)) void
weight_block(const weight_group *restrict group, float *restrict lanes, const size_t *restrict offsets, size_t T,
             size_t Q, size_t o0, const size_t OB) {
    size_t t = 0;
    for (; t + 3 <= T; t += 3) weight_taps(group, lanes, offsets, T, Q, o0, t, OB, 3);
    if (T - t == 2) weight_taps(group, lanes, offsets, T, Q, o0, t, OB, 2);
    if (T - t == 1) weight_taps(group, lanes, offsets, T, Q, o0, t, OB, 1);
}
