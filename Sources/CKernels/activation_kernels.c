#include "ckernels.h"
#include "elementwise_math.h"

// Sigmoid and tanh, forward and backward, over flat buffers: the
// recurrent cells call them on every step, where libm's scalar tanhf (and a
// Swift closure per element for the derivative) measured a quarter of an
// Elman RNN's training time. Without FMA contraction each element rounds the
// same way whether its loop runs 1 or 8 lanes wide, so a sample's values do
// not depend on where it falls in a batch.

#pragma STDC FP_CONTRACT OFF

static inline __attribute__((always_inline)) void
sigmoid_body(const float *restrict x, float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float e = ck_expf(-__builtin_fabsf(v));
        y[i] = v >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    }
}

/// Cephes' tanhf: an odd polynomial below |x| = 0.625, 1 - 2 / (e^2|x| + 1)
/// above (e^2|x| clamped at e^88, where the result is 1), with the sign of x
/// (so tanh(-0) is -0). NaN stays NaN.
static inline __attribute__((always_inline)) void
tanh_body(const float *restrict x, float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i], a = __builtin_fabsf(v);
        float z = v * v;
        float small = ((((-5.70498872745E-3f * z + 2.06390887954E-2f) * z - 5.37397155531E-2f) * z
                        + 1.33314422036E-1f) * z - 3.33332819422E-1f) * z * v + v;
        float large = 1.0f - 2.0f / (ck_expf(a + a) + 1.0f);
        y[i] = __builtin_copysignf(a > 0.625f ? large : small, v);
    }
}

/// gx += g y (1 - y), from the sigmoid's output y.
static inline __attribute__((always_inline)) void
sigmoid_backward_body(const float *restrict y, const float *restrict g, float *restrict gx, size_t n) {
    for (size_t i = 0; i < n; i++) gx[i] = gx[i] + g[i] * y[i] * (1.0f - y[i]);
}

/// gx += g (1 - y^2), from tanh's output y.
static inline __attribute__((always_inline)) void
tanh_backward_body(const float *restrict y, const float *restrict g, float *restrict gx, size_t n) {
    for (size_t i = 0; i < n; i++) gx[i] = gx[i] + g[i] * (1.0f - y[i] * y[i]);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void sigmoid_avx2(const float *restrict x, float *restrict y, size_t n) {
    sigmoid_body(x, y, n);
}
__attribute__((target("avx2"))) static void tanh_avx2(const float *restrict x, float *restrict y, size_t n) {
    tanh_body(x, y, n);
}
__attribute__((target("avx2"))) static void
sigmoid_backward_avx2(const float *restrict y, const float *restrict g, float *restrict gx, size_t n) {
    sigmoid_backward_body(y, g, gx, n);
}
__attribute__((target("avx2"))) static void
tanh_backward_avx2(const float *restrict y, const float *restrict g, float *restrict gx, size_t n) {
    tanh_backward_body(y, g, gx, n);
}
#endif

void ck_sigmoid_forward(const float *restrict x, float *restrict y, size_t n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) { sigmoid_avx2(x, y, n); return; }
#endif
    sigmoid_body(x, y, n);
}

void ck_tanh_forward(const float *restrict x, float *restrict y, size_t n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) { tanh_avx2(x, y, n); return; }
#endif
    tanh_body(x, y, n);
}

void ck_sigmoid_backward(const float *restrict y, const float *restrict g, float *restrict gx, size_t n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) { sigmoid_backward_avx2(y, g, gx, n); return; }
#endif
    sigmoid_backward_body(y, g, gx, n);
}

void ck_tanh_backward(const float *restrict y, const float *restrict g, float *restrict gx, size_t n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) { tanh_backward_avx2(y, g, gx, n); return; }
#endif
    tanh_backward_body(y, g, gx, n);
}
