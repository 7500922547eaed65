#include "ckernels.h"
#include <float.h>

// Same rounding on every CPU: no fused multiply-add contraction.
#pragma STDC FP_CONTRACT OFF

// Optimizer state of a parameter whose gradient stays zero (a border pixel's
// weights, a dead ReLU unit) decays geometrically into the denormal range,
// where every multiply takes a microcode assist: measured, Adam's step became
// 4x slower after a few hundred steps. State below FLT_MIN is set to zero
// instead, per value and deterministically, without touching the CPU's
// flush-to-zero mode. (PyTorch keeps denormals unless set_flush_denormal.)
static inline __attribute__((always_inline)) float flush_denormal(float x) {
    return __builtin_fabsf(x) < FLT_MIN ? 0.0f : x;
}

static inline __attribute__((always_inline)) void
adam_body(float *restrict p, const float *restrict grad, float *restrict m, float *restrict v, size_t n,
          float gs, float b1, float b2, float eps, float wd, float step_size, float bc2_sqrt) {
    const float one_minus_b1 = 1.0f - b1, one_minus_b2 = 1.0f - b2;
    for (size_t i = 0; i < n; i++) {
        float g = grad[i] * gs;
        if (wd != 0.0f) g = g + wd * p[i];
        float mi = flush_denormal(m[i] + one_minus_b1 * (g - m[i]));  // torch: exp_avg.lerp_(grad, 1 - beta1)
        float vi = flush_denormal(v[i] * b2 + one_minus_b2 * g * g);
        float denom = __builtin_elementwise_sqrt(vi) / bc2_sqrt + eps;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] - step_size * (mi / denom);
    }
}

// The branches on momentum and first_step are hoisted out of the loops: a
// conditional access to the momentum buffer inside one loop is compiled to a
// masked load/store, which on a NULL buffer takes a microcode assist per
// vector (measured: SGD 3x slower than Adam).
static inline __attribute__((always_inline)) void
sgd_body(float *restrict p, const float *restrict grad, float *restrict buf, size_t n, float gs, float lr,
         float mu, float damp, int nesterov, float wd, int first) {
    if (mu == 0.0f) {
        for (size_t i = 0; i < n; i++) {
            float g = grad[i] * gs;
            if (wd != 0.0f) g = g + wd * p[i];
            p[i] = p[i] - lr * g;
        }
    } else if (first) {
        for (size_t i = 0; i < n; i++) {
            float g = grad[i] * gs;
            if (wd != 0.0f) g = g + wd * p[i];
            buf[i] = g;  // torch: buf = clone(grad) on the first step
            g = nesterov ? g + mu * g : g;
            p[i] = p[i] - lr * g;
        }
    } else {
        const float one_minus_damp = 1.0f - damp;
        for (size_t i = 0; i < n; i++) {
            float g = grad[i] * gs;
            if (wd != 0.0f) g = g + wd * p[i];
            float b = flush_denormal(mu * buf[i] + one_minus_damp * g);
            buf[i] = b;
            g = nesterov ? g + mu * b : b;
            p[i] = p[i] - lr * g;
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void
adam_avx2(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
          float gs, float b1, float b2, float eps, float wd, float s, float c) {
    adam_body(p, g, m, v, n, gs, b1, b2, eps, wd, s, c);
}
__attribute__((target("avx2"))) static void
sgd_avx2(float *restrict p, const float *restrict g, float *restrict b, size_t n, float gs, float lr, float mu,
         float d, int nv, float wd, int f) {
    sgd_body(p, g, b, n, gs, lr, mu, d, nv, wd, f);
}
static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("avx2") ? 1 : 0;
    return cached;
}
#endif

void ck_adam_step(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                  float gs, float b1, float b2, float eps, float wd, float step_size, float bc2_sqrt) {
#if defined(__x86_64__)
    if (has_avx2()) { adam_avx2(p, g, m, v, n, gs, b1, b2, eps, wd, step_size, bc2_sqrt); return; }
#endif
    adam_body(p, g, m, v, n, gs, b1, b2, eps, wd, step_size, bc2_sqrt);
}

void ck_sgd_step(float *restrict p, const float *restrict g, float *restrict buf, size_t n, float gs, float lr,
                 float mu, float damp, int nesterov, float wd, int first) {
#if defined(__x86_64__)
    if (has_avx2()) { sgd_avx2(p, g, buf, n, gs, lr, mu, damp, nesterov, wd, first); return; }
#endif
    sgd_body(p, g, buf, n, gs, lr, mu, damp, nesterov, wd, first);
}
