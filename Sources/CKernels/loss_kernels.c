#include "ckernels.h"
#include "elementwise_math.h"

#pragma STDC FP_CONTRACT OFF

/// Loss of one element, clamped like PyTorch; comparisons keep NaN as NaN.
static inline __attribute__((always_inline)) float bce_element(float p, float t) {
    float lp = ck_logf(p), l1p = ck_logf(1.0f - p);
    lp = lp < -100.0f ? -100.0f : lp;
    l1p = l1p < -100.0f ? -100.0f : l1p;
    return -(t * lp + (1.0f - t) * l1p);
}

// Elements are computed in blocks into a small buffer (a loop that
// vectorises), then added into eight double accumulators in a fixed order, so
// the sum is accurate and the same on every run.
#define BCE_BLOCK 256
static inline __attribute__((always_inline)) double
bce_body(const float *restrict p, const float *restrict t, size_t n) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float block[BCE_BLOCK];
    for (size_t start = 0; start < n; start += BCE_BLOCK) {
        size_t len = n - start < BCE_BLOCK ? n - start : BCE_BLOCK;
        for (size_t k = 0; k < len; k++) block[k] = bce_element(p[start + k], t[start + k]);
        for (size_t k = 0; k < len; k++) acc[k & 7] += (double)block[k];
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static inline __attribute__((always_inline)) void
bce_backward_body(const float *restrict p, const float *restrict t, float *restrict g, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) {
        float d = (1.0f - p[i]) * p[i];
        d = d > 1e-12f ? d : 1e-12f;
        g[i] = g[i] + scale * (p[i] - t[i]) / d;
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static double bce_avx2(const float *restrict p, const float *restrict t, size_t n) {
    return bce_body(p, t, n);
}
__attribute__((target("avx2"))) static void
bce_backward_avx2(const float *restrict p, const float *restrict t, float *restrict g, size_t n, float s) {
    bce_backward_body(p, t, g, n, s);
}
#endif

double ck_bce_sum(const float *restrict p, const float *restrict t, size_t n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) return bce_avx2(p, t, n);
#endif
    return bce_body(p, t, n);
}

void ck_bce_backward(const float *restrict p, const float *restrict t, float *restrict g, size_t n, float scale) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) { bce_backward_avx2(p, t, g, n, scale); return; }
#endif
    bce_backward_body(p, t, g, n, scale);
}

// A float is NaN or infinite exactly when its exponent bits are all ones.
// The largest exponent field over the buffer is an integer max reduction,
// which vectorises (unlike a float sum, whose order must be kept) and has a
// one-cycle dependency chain.
static inline __attribute__((always_inline)) int all_finite_body(const float *restrict x, size_t n) {
    uint32_t worst = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t exponent = ck_float_to_bits(x[i]) & 0x7f800000u;
        worst = exponent > worst ? exponent : worst;
    }
    return worst != 0x7f800000u;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static int all_finite_avx2(const float *restrict x, size_t n) {
    return all_finite_body(x, n);
}
#endif

int ck_all_finite(const float *restrict x, size_t n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) return all_finite_avx2(x, n);
#endif
    return all_finite_body(x, n);
}
