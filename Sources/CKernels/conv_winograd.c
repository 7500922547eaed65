#include "ckernels.h"
#include "isa_level.h"
#include "tap_loops.h"
#include <stdlib.h>
#include <string.h>

// Winograd's F(2x2, 3x3) for 3x3 convolutions at stride 1 (Lavin and Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2015): each 2x2 block
// of outputs comes from the 4x4 input tile under it as
//
//     Y = A^T [ sum_c (G g[o, c] G^T) .* (B^T d[c] B) ] A
//
// 16 multiplications per tile, channel and output channel where the direct
// sum takes 36, so the products, which are most of the work, fall 2.25
// times. The transforms are additions (and halvings of the weights):
//
//     B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//     G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//     A^T = [1 1 1 0; 0 1 -1 -1]
//
// and the sums over channels become sixteen matrix products M[e] = U[e]^T
// V[e] (U[e] is kept [C, O]), one per element e of the 4x4 tile, run on the direct kernels' tap
// loops (tap_loops.h) with the channels as taps, over a block of tiles at a
// time: transformed inputs V [16, C, tiles] and products M [16, O, tiles] of
// a block stay within 512 KiB (a Zen 1 core's L2).
//
// The input gradient of a 3x3 convolution at stride 1 with padding p is the
// same convolution of the output gradient with each kernel flipped and its
// channels swapped, at padding 2 - p; it runs on the same code. The weight
// gradient is the adjoint of the forward pass in the kernel:
//
//     dW[o, c] += G^T [ sum over tiles of (A dY[o] A^T) .* (B^T d[c] B) ] G
//
// sixteen products again, now summed over the tiles (the direct weight
// loops of tap_loops.h, with the channels as taps), and then transformed.
//
// Measured against the direct kernels (AVX-512, batch 64, best of five), in
// GFLOP/s of the direct sums: y and dx 1.36-1.5 times on 32 to 32 channels
// (28x28 and 32x32) and 32 to 64 (14x14), 1.48-1.76 on 32 to 64 (16x16)
// and 64 to 128 (14x14); dW 1.23-1.39 times on all five, where the
// transforms of both operands weigh more. With fewer than 16 channels on
// either side the transforms outweigh the products saved (3 to 32
// channels: 0.75 times the direct forward, 8 to 8: 0.78), so those stay
// direct (`ck_conv2d_winograd_fits`).
//
// Bits: every output of y and dx is A^T (sum over c, in channel order, of U
// V) A plus the bias, the same operations whatever block or vector lane its
// tile falls in; dW's sums run in an order fixed by the shapes (the tile
// blocks and their eight lanes). So they depend on the shapes only, as the
// direct kernels' do, and differ from the direct sums in the last bits (the
// rounding of the transforms: within 4e-7 of the largest value in the tests
// against Double).

/// The sizes of one Winograd convolution: the input [C, H, W] zero-padded by
/// p into [Hp, Wp] (whole tiles: rows and columns past the input are zero),
/// outputs [O, oh, ow] in th x tw tiles of 2x2, `rows` tile rows per block.
typedef struct {
    size_t C, H, W, O, p, oh, ow, th, tw, Hp, Wp, rows;
} tile_shape;

static tile_shape make_tiles(size_t C, size_t H, size_t W, size_t O, size_t p) {
    tile_shape s = {C, H, W, O, p, 0, 0, 0, 0, 0, 0, 0};
    s.oh = H + 2 * p - 2;
    s.ow = W + 2 * p - 2;
    s.th = (s.oh + 1) / 2;
    s.tw = (s.ow + 1) / 2;
    s.Hp = 2 * s.th + 2;
    s.Wp = 2 * s.tw + 2;
    // As many tile rows as keep V and M within 512 KiB, but at least 48
    // tiles, so that the products' vectors of eight are mostly full.
    const size_t fit = (512 * 1024 / sizeof(float)) / (16 * (C + O)) / s.tw;
    const size_t least = (48 + s.tw - 1) / s.tw;
    s.rows = fit > least ? fit : least;
    return s;
}

/// U [16, C, O] (element e of the 4x4 tile, then input channel, then output
/// channel, as the tap loops read weights) = G g G^T for each kernel g [3, 3]
/// at w + o * o_stride + c * c_stride, flipped (g[2 - i, 2 - j]) when `flip`.
static void transform_kernels(const float *restrict w, float *restrict U, size_t C, size_t O, size_t o_stride,
                              size_t c_stride, int flip) {
    for (size_t o = 0; o < O; o++) {
        for (size_t c = 0; c < C; c++) {
            const float *k = w + o * o_stride + c * c_stride;
            float g[3][3];
            for (size_t i = 0; i < 3; i++) {
                for (size_t j = 0; j < 3; j++) g[i][j] = flip ? k[(2 - i) * 3 + 2 - j] : k[i * 3 + j];
            }
            float t[4][3];  // G g
            for (size_t j = 0; j < 3; j++) {
                t[0][j] = g[0][j];
                t[1][j] = 0.5f * (g[0][j] + g[1][j] + g[2][j]);
                t[2][j] = 0.5f * (g[0][j] - g[1][j] + g[2][j]);
                t[3][j] = g[2][j];
            }
            for (size_t i = 0; i < 4; i++) {
                const float u[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]), 0.5f * (t[i][0] - t[i][1] + t[i][2]),
                                    t[i][2]};
                for (size_t j = 0; j < 4; j++) U[((i * 4 + j) * C + c) * O + o] = u[j];
            }
        }
    }
}

/// One sample's image [C, H, W] zero-padded into [C, Hp, Wp], each row split
/// by column parity (its even columns, then its odd ones), so that the input
/// transform reads tiles two columns apart as contiguous vectors.
static inline __attribute__((always_inline)) void
pad_image(const float *restrict image, float *restrict out, const tile_shape *s) {
    const size_t half = s->Wp / 2, p = s->p, W = s->W, pairs = W / 2;
    // Input column 2k lands on padded column 2k + p: for even p, input pair
    // k is even and odd column k + p/2; for odd p, odd column k + (p - 1)/2
    // and even column k + (p + 1)/2. Each row is then one deinterleave, a
    // loop of constant stride that vectorises.
    const size_t first = p / 2, second = (p + 1) / 2;
    for (size_t c = 0; c < s->C; c++) {
        for (size_t i = 0; i < s->Hp; i++) {
            float *even = out + (c * s->Hp + i) * s->Wp, *odd = even + half;
            for (size_t j = 0; j < s->Wp; j++) even[j] = 0.0f;
            if (i < p || i - p >= s->H) continue;
            const float *row = image + (c * s->H + i - p) * W;
            float *a = p % 2 ? odd + first : even + first, *b = p % 2 ? even + second : odd + first;
            for (size_t k = 0; k < pairs; k++) {
                a[k] = row[2 * k];
                b[k] = row[2 * k + 1];
            }
            if (W % 2) a[pairs] = row[W - 1];
        }
    }
}

/// V [16, C, nt] for tile row ty of a padded image, at tile columns k0 ..<
/// k0 + tw of the block: B^T d B for each tile, rows first.
static inline __attribute__((always_inline)) void
transform_inputs(const float *restrict padded, float *restrict V, float *restrict combined, size_t ty, size_t k0,
                 size_t nt, const tile_shape *s) {
    const size_t C = s->C, tw = s->tw, Wp = s->Wp, half = Wp / 2;
    // B^T d: the four combinations of the tile row's four image rows, split
    // by parity as the image is (scratch, not the stack: rows can be long).
    float *b[4] = {combined, combined + Wp, combined + 2 * Wp, combined + 3 * Wp};
    for (size_t c = 0; c < C; c++) {
        const float *d0 = padded + (c * s->Hp + 2 * ty) * Wp, *d1 = d0 + Wp, *d2 = d1 + Wp, *d3 = d2 + Wp;
        for (size_t j = 0; j < Wp; j++) {
            b[0][j] = d0[j] - d2[j];
            b[1][j] = d1[j] + d2[j];
            b[2][j] = d2[j] - d1[j];
            b[3][j] = d1[j] - d3[j];
        }
        for (size_t i = 0; i < 4; i++) {
            // Tile t's columns are even t, odd t, even t + 1, odd t + 1.
            const float *E = b[i], *D = b[i] + half;
            float *v0 = V + ((i * 4 + 0) * C + c) * nt + k0, *v1 = V + ((i * 4 + 1) * C + c) * nt + k0;
            float *v2 = V + ((i * 4 + 2) * C + c) * nt + k0, *v3 = V + ((i * 4 + 3) * C + c) * nt + k0;
            if (tw < 8) {
                for (size_t t = 0; t < tw; t++) {
                    v0[t] = E[t] - E[t + 1];
                    v1[t] = D[t] + E[t + 1];
                    v2[t] = E[t + 1] - D[t];
                    v3[t] = D[t] - D[t + 1];
                }
                continue;
            }
            for (size_t t0 = 0; t0 < tw; t0 += 8) {
                const size_t t = t0 + 8 <= tw ? t0 : tw - 8;  // the last vector overlaps, rewriting equal values
                const v8 e0 = load8(E + t), e1 = load8(E + t + 1), o0 = load8(D + t), o1 = load8(D + t + 1);
                store8(v0 + t, e0 - e1);
                store8(v1 + t, o0 + e1);
                store8(v2 + t, e1 - o0);
                store8(v3 + t, o0 - o1);
            }
        }
    }
}

/// Output rows 2 ty and 2 ty + 1 of channel plane y_o from the products M of
/// tiles k0 ..< k0 + tw of the block (E floats between elements): A^T M A
/// plus the bias, stored, or added when `accumulate`.
static inline __attribute__((always_inline)) void
transform_outputs(const float *restrict m, size_t E, size_t k0, float bias, float *restrict yo, size_t ty,
                  int accumulate, const tile_shape *s) {
    const size_t tw = s->tw, ow = s->ow, oy = 2 * ty;
    const int second = oy + 1 < s->oh;
    float *row0 = yo + oy * ow, *row1 = row0 + ow;
    for (size_t t0 = 0; t0 < tw; t0 += 8) {
        // Tiles t ..< t + 8; the last vector overlaps the one before, whose
        // tiles (lanes below t0 - t) it must not write again.
        const size_t t = tw < 8 || t0 + 8 <= tw ? t0 : tw - 8, k = k0 + t;
        v8 r0[4], r1[4];  // A^T M
        for (size_t j = 0; j < 4; j++) {
            const v8 a = load8(m + j * E + k), b = load8(m + (4 + j) * E + k);
            const v8 c = load8(m + (8 + j) * E + k), d = load8(m + (12 + j) * E + k);
            r0[j] = a + b + c;
            r1[j] = b - c - d;
        }
        const v8 y00 = r0[0] + r0[1] + r0[2] + bias, y01 = r0[1] - r0[2] - r0[3] + bias;
        const v8 y10 = r1[0] + r1[1] + r1[2] + bias, y11 = r1[1] - r1[2] - r1[3] + bias;
        if (tw >= 8 && t == t0 && 2 * (t + 8) <= ow) {  // sixteen whole columns per row
            const v8 lo0 = __builtin_shufflevector(y00, y01, 0, 8, 1, 9, 2, 10, 3, 11);
            const v8 hi0 = __builtin_shufflevector(y00, y01, 4, 12, 5, 13, 6, 14, 7, 15);
            const v8 lo1 = __builtin_shufflevector(y10, y11, 0, 8, 1, 9, 2, 10, 3, 11);
            const v8 hi1 = __builtin_shufflevector(y10, y11, 4, 12, 5, 13, 6, 14, 7, 15);
            float *p0 = row0 + 2 * t, *p1 = row1 + 2 * t;
            store8(p0, accumulate ? load8(p0) + lo0 : lo0);
            store8(p0 + 8, accumulate ? load8(p0 + 8) + hi0 : hi0);
            if (second) {
                store8(p1, accumulate ? load8(p1) + lo1 : lo1);
                store8(p1 + 8, accumulate ? load8(p1 + 8) + hi1 : hi1);
            }
        } else {
            const size_t first = t0 - t, lanes = tw < 8 ? tw : 8;
            for (size_t l = first; l < lanes; l++) {
                const size_t ox = 2 * (t + l);
                const int pair = ox + 1 < ow;
                row0[ox] = accumulate ? row0[ox] + y00[l] : y00[l];
                if (pair) row0[ox + 1] = accumulate ? row0[ox + 1] + y01[l] : y01[l];
                if (second) {
                    row1[ox] = accumulate ? row1[ox] + y10[l] : y10[l];
                    if (pair) row1[ox + 1] = accumulate ? row1[ox + 1] + y11[l] : y11[l];
                }
            }
        }
        if (tw < 8) break;
    }
}

/// Z [16, O, nt] for the block's tile rows r0 ..< r0 + nr of the batch's
/// output gradients g [batch, O, oh, ow]: A g A^T for each 2x2 tile (zero
/// past the last row and column), whose products with the inputs' B^T d B
/// give the weight gradient. `corners` holds 4 nt floats.
static inline __attribute__((always_inline)) void
transform_gradients(const float *restrict g, float *restrict Z, float *restrict corners, size_t r0, size_t nr,
                    size_t nt, const tile_shape *s) {
    const size_t O = s->O, tw = s->tw, th = s->th, oh = s->oh, ow = s->ow, pairs = ow / 2;
    // Each tile's top left, top right, bottom left and bottom right, over the block.
    float *a = corners, *b = a + nt, *c = b + nt, *d = c + nt;
    for (size_t o = 0; o < O; o++) {
        for (size_t r = 0; r < nr; r++) {
            const size_t n = (r0 + r) / th, oy = 2 * ((r0 + r) % th), k = r * tw;
            const float *top = g + ((n * O + o) * oh + oy) * ow;
            for (size_t t = 0; t < pairs; t++) {
                a[k + t] = top[2 * t];
                b[k + t] = top[2 * t + 1];
            }
            if (ow % 2) a[k + pairs] = top[ow - 1], b[k + pairs] = 0.0f;
            if (oy + 1 < oh) {
                const float *bottom = top + ow;
                for (size_t t = 0; t < pairs; t++) {
                    c[k + t] = bottom[2 * t];
                    d[k + t] = bottom[2 * t + 1];
                }
                if (ow % 2) c[k + pairs] = bottom[ow - 1], d[k + pairs] = 0.0f;
            } else {
                for (size_t t = 0; t < tw; t++) c[k + t] = d[k + t] = 0.0f;
            }
        }
        // A g has rows (a, b), (a + c, b + d), (a - c, b - d), (-c, -d); each
        // row (u, v) times A^T is (u, u + v, u - v, -v).
        float *z = Z + o * nt;
        const size_t e = O * nt;  // floats from one element to the next
        for (size_t k = 0; k < nt; k++) {
            const float u[4] = {a[k], a[k] + c[k], a[k] - c[k], -c[k]};
            const float v[4] = {b[k], b[k] + d[k], b[k] - d[k], -d[k]};
            for (size_t i = 0; i < 4; i++) {
                z[(4 * i + 0) * e + k] = u[i];
                z[(4 * i + 1) * e + k] = u[i] + v[i];
                z[(4 * i + 2) * e + k] = u[i] - v[i];
                z[(4 * i + 3) * e + k] = -v[i];
            }
        }
    }
}

/// Scratch for one call.
typedef struct {
    float *U;         // [16, C, O] transformed kernels
    float *padded;    // [C, Hp, Wp] the sample whose tile rows are being transformed
    float *V;         // [16, C, rows tw]
    float *M;         // [16, O, rows tw] products, or the weight gradient's transformed gradients
    size_t *offsets;  // [C]: channel c's run in V[e]
    float *lanes;     // [16, O, C, 8] the weight gradient's lane sums
    float *corners;   // [4, rows tw] the weight gradient's output gradient tiles
    float *combined;  // [4, Wp] one tile row's input rows combined
} tile_scratch;

static void release_tiles(tile_scratch *m) {
    free(m->U);
    free(m->padded);
    free(m->V);
    free(m->M);
    free(m->offsets);
    free(m->lanes);
    free(m->corners);
    free(m->combined);
}

/// V [16, C, nt] for the block's tile rows r0 ..< r0 + nr of the batch x
/// [batch, C, H, W], and each channel's offset into it for the tap loops.
static inline __attribute__((always_inline)) void
transform_block(const float *restrict x, const tile_scratch *m, const tile_shape *s, size_t r0, size_t nr,
                size_t nt) {
    for (size_t r = 0; r < nr; r++) {
        const size_t n = (r0 + r) / s->th, ty = (r0 + r) % s->th;
        // Tile rows run in order and each is transformed as it comes, so one
        // padded image is enough, even when a block crosses samples.
        if (ty == 0) pad_image(x + n * s->C * s->H * s->W, m->padded, s);
        transform_inputs(m->padded, m->V, m->combined, ty, r * s->tw, nt, s);
    }
    for (size_t c = 0; c < s->C; c++) m->offsets[c] = c * nt;
}

/// y [batch, O, oh, ow] = (or +=, with `accumulate`) the convolution of x
/// [batch, C, H, W] with the kernels whose transforms are in m->U, plus bias
/// (NULL for none). Blocks of `rows` tile rows run over the batch's tile
/// rows in order, crossing from one sample into the next.
static inline __attribute__((always_inline)) void
winograd_body(const float *restrict x, const float *restrict bias, float *restrict y, const tile_scratch *m,
              const tile_shape *s, size_t batch, int accumulate, const size_t OB, const size_t NV) {
    const size_t C = s->C, O = s->O, tw = s->tw, th = s->th, total = batch * th;
    for (size_t r0 = 0; r0 < total; r0 += s->rows) {
        const size_t nr = total - r0 < s->rows ? total - r0 : s->rows, nt = nr * tw;
        transform_block(x, m, s, r0, nr, nt);
        for (size_t e = 0; e < 16; e++) {
            taps_image(m->V + e * C * nt, m->U + e * C * O, NULL, m->M + e * O * nt, m->offsets, C, nt, O, OB, NV);
        }
        for (size_t o = 0; o < O; o++) {
            for (size_t r = 0; r < nr; r++) {
                const size_t n = (r0 + r) / th, ty = (r0 + r) % th;
                transform_outputs(m->M + o * nt, O * nt, r * tw, bias ? bias[o] : 0.0f,
                                  y + (n * O + o) * s->oh * s->ow, ty, accumulate, s);
            }
        }
    }
}

/// m->lanes += the lane sums of sum over tiles of Z[e, o] V[e, c], for the
/// inputs x [batch, C, H, W] and output gradients g [batch, O, oh, ow], block
/// of tile rows after block as in the forward pass.
static inline __attribute__((always_inline)) void
winograd_weight_body(const float *restrict x, const float *restrict g, const tile_scratch *m, const tile_shape *s,
                     size_t batch, const size_t OB) {
    const size_t C = s->C, O = s->O, tw = s->tw, th = s->th, total = batch * th;
    for (size_t r0 = 0; r0 < total; r0 += s->rows) {
        const size_t nr = total - r0 < s->rows ? total - r0 : s->rows, nt = nr * tw;
        transform_block(x, m, s, r0, nr, nt);
        transform_gradients(g, m->M, m->corners, r0, nr, nt, s);
        for (size_t e = 0; e < 16; e++) {
            const weight_group group = {m->V + e * C * nt, m->M + e * O * nt, 0, 0, 1};
            float *lanes = m->lanes + e * O * C * 8;
            size_t o0 = 0;
            for (; o0 + OB <= O; o0 += OB) weight_block(&group, lanes, m->offsets, C, nt, o0, OB);
            for (; o0 + 2 <= O; o0 += 2) weight_block(&group, lanes, m->offsets, C, nt, o0, 2);
            if (o0 < O) weight_block(&group, lanes, m->offsets, C, nt, o0, 1);
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma,avx512f,avx512vl"))) static void
winograd_avx512(const float *x, const float *bias, float *y, const tile_scratch *m, const tile_shape *s,
                size_t batch, int accumulate) {
    winograd_body(x, bias, y, m, s, batch, accumulate, 8, 3);
}
__attribute__((target("avx2,fma"))) static void
winograd_avx2(const float *x, const float *bias, float *y, const tile_scratch *m, const tile_shape *s, size_t batch,
              int accumulate) {
    winograd_body(x, bias, y, m, s, batch, accumulate, 6, 2);
}
__attribute__((target("avx2,fma,avx512f,avx512vl"))) static void
winograd_weight_avx512(const float *x, const float *g, const tile_scratch *m, const tile_shape *s, size_t batch) {
    winograd_weight_body(x, g, m, s, batch, 8);
}
__attribute__((target("avx2,fma"))) static void
winograd_weight_avx2(const float *x, const float *g, const tile_scratch *m, const tile_shape *s, size_t batch) {
    winograd_weight_body(x, g, m, s, batch, 4);
}
#endif

/// Runs the convolution of x [batch, C, H, W] at padding p into y [batch, O,
/// ...] for kernels given as w + o * o_stride + c * c_stride (flipped when
/// `flip`).
static int winograd(const float *restrict x, const float *restrict w, size_t o_stride, size_t c_stride, int flip,
                    const float *restrict bias, float *restrict y, size_t batch, size_t C, size_t H, size_t W,
                    size_t O, size_t p, int accumulate) {
    const tile_shape s = make_tiles(C, H, W, O, p);
    tile_scratch m = {
        malloc(16 * C * O * sizeof(float)),
        malloc(C * s.Hp * s.Wp * sizeof(float)),
        malloc(16 * C * s.rows * s.tw * sizeof(float)),
        malloc((16 * O * s.rows * s.tw + 8) * sizeof(float)),  // + a vector read past the last row's tiles when tw < 8
        malloc(C * sizeof(size_t)),
        NULL,
        NULL,
        malloc(4 * s.Wp * sizeof(float)),
    };
    if (!m.U || !m.padded || !m.V || !m.M || !m.offsets || !m.combined) {
        release_tiles(&m);
        return -1;
    }
    transform_kernels(w, m.U, C, O, o_stride, c_stride, flip);
#if defined(__x86_64__)
    switch (ck_isa_level()) {
    case 2: winograd_avx512(x, bias, y, &m, &s, batch, accumulate); break;
    case 1: winograd_avx2(x, bias, y, &m, &s, batch, accumulate); break;
    default: winograd_body(x, bias, y, &m, &s, batch, accumulate, 6, 2);
    }
#else
    winograd_body(x, bias, y, &m, &s, batch, accumulate, 6, 2);
#endif
    release_tiles(&m);
    return 0;
}

int ck_conv2d_winograd_fits(size_t in_channels, size_t out_channels, size_t kh, size_t kw, size_t stride,
                            size_t padding) {
    return kh == 3 && kw == 3 && stride == 1 && padding <= 2 && in_channels >= 16 && out_channels >= 16;
}

/// The shapes the three passes take: a 3x3 window fits the padded input,
/// and the input gradient's padding 2 - p is not negative.
static int supported(size_t height, size_t width, size_t padding) {
    return padding <= 2 && height + 2 * padding >= 3 && width + 2 * padding >= 3;
}

int ck_conv2d_winograd_forward(const float *restrict x, const float *restrict w, const float *restrict bias,
                               float *restrict y, size_t batch, size_t channels, size_t height, size_t width,
                               size_t out_channels, size_t padding) {
    if (!supported(height, width, padding)) return -1;
    return winograd(x, w, channels * 9, 9, 0, bias, y, batch, channels, height, width, out_channels, padding, 0);
}

int ck_conv2d_winograd_backward_input(const float *restrict g, const float *restrict w, float *restrict dx,
                                      size_t batch, size_t channels, size_t height, size_t width,
                                      size_t out_channels, size_t padding, int accumulate) {
    if (!supported(height, width, padding)) return -1;
    // dx's channel c takes, from g's channel o, kernel w[o, c] flipped.
    const size_t oh = height + 2 * padding - 2, ow = width + 2 * padding - 2;
    return winograd(g, w, 9, channels * 9, 1, NULL, dx, batch, out_channels, oh, ow, channels, 2 - padding,
                    accumulate);
}

int ck_conv2d_winograd_backward_weight(const float *restrict x, const float *restrict g, float *restrict dw,
                                       size_t batch, size_t channels, size_t height, size_t width,
                                       size_t out_channels, size_t padding) {
    if (!supported(height, width, padding)) return -1;
    const size_t C = channels, O = out_channels;
    const tile_shape s = make_tiles(C, height, width, O, padding);
    tile_scratch m = {
        NULL,
        malloc(C * s.Hp * s.Wp * sizeof(float)),
        malloc(16 * C * s.rows * s.tw * sizeof(float)),
        malloc(16 * O * s.rows * s.tw * sizeof(float)),
        malloc(C * sizeof(size_t)),
        aligned_alloc(64, 16 * O * C * 8 * sizeof(float)),  // a multiple of 64 bytes
        malloc(4 * s.rows * s.tw * sizeof(float)),
        malloc(4 * s.Wp * sizeof(float)),
    };
    if (!m.padded || !m.V || !m.M || !m.offsets || !m.lanes || !m.corners || !m.combined) {
        release_tiles(&m);
        return -1;
    }
    memset(m.lanes, 0, 16 * O * C * 8 * sizeof(float));
#if defined(__x86_64__)
    switch (ck_isa_level()) {
    case 2: winograd_weight_avx512(x, g, &m, &s, batch); break;
    case 1: winograd_weight_avx2(x, g, &m, &s, batch); break;
    default: winograd_weight_body(x, g, &m, &s, batch, 4);
    }
#else
    winograd_weight_body(x, g, &m, &s, batch, 4);
#endif
    // dw[o, c] += G^T Mw G, Mw[e] the lane sums of element e.
    for (size_t o = 0; o < O; o++) {
        for (size_t c = 0; c < C; c++) {
            float mw[4][4];
            for (size_t e = 0; e < 16; e++) {
                const float *l = m.lanes + ((e * O + o) * C + c) * 8;
                mw[e / 4][e % 4] = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
            }
            float t[3][4];  // G^T Mw
            for (size_t j = 0; j < 4; j++) {
                t[0][j] = mw[0][j] + 0.5f * (mw[1][j] + mw[2][j]);
                t[1][j] = 0.5f * (mw[1][j] - mw[2][j]);
                t[2][j] = 0.5f * (mw[1][j] + mw[2][j]) + mw[3][j];
            }
            float *k = dw + (o * C + c) * 9;
            for (size_t i = 0; i < 3; i++) {
                k[i * 3 + 0] += t[i][0] + 0.5f * (t[i][1] + t[i][2]);
                k[i * 3 + 1] += 0.5f * (t[i][1] - t[i][2]);
                k[i * 3 + 2] += 0.5f * (t[i][1] + t[i][2]) + t[i][3];
            }
        }
    }
    release_tiles(&m);
    return 0;
}
