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

// torch's lerp (aten/src/ATen/native/Lerp.h): two formulas, each exact at
// its own end, chosen by the size of the weight.
static inline __attribute__((always_inline)) float torch_lerp(float self, float end, float weight) {
    return __builtin_fabsf(weight) < 0.5f ? self + weight * (end - self) : end - (end - self) * (1.0f - weight);
}

// Adam and AdamW share one body: decay is AdamW's decoupled factor
// 1 - lr * weight_decay (1 for Adam, where the multiply folds away), wd the
// L2 term added to the gradient (0 for AdamW).
static inline __attribute__((always_inline)) void
adam_body(float *restrict p, const float *restrict grad, float *restrict m, float *restrict v, size_t n,
          float gs, float b1, float b2, float eps, float wd, float decay, float step_size, float bc2_sqrt) {
    const float one_minus_b1 = 1.0f - b1, one_minus_b2 = 1.0f - b2;
    for (size_t i = 0; i < n; i++) {
        float pi = p[i];
        if (decay != 1.0f) pi = pi * decay;  // torch: param.mul_(1 - lr * weight_decay), before the update
        float g = grad[i] * gs;
        if (wd != 0.0f) g = g + wd * pi;
        float mi = flush_denormal(torch_lerp(m[i], g, one_minus_b1));  // torch: exp_avg.lerp_(grad, 1 - beta1)
        float vi = flush_denormal(v[i] * b2 + one_minus_b2 * g * g);
        float denom = __builtin_elementwise_sqrt(vi) / bc2_sqrt + eps;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - step_size * (mi / denom);
    }
}

// torch.optim.RMSprop (_single_tensor_rmsprop). centered and with_momentum
// are constants at every call site, so each of the four variants is its own
// loop without the NULL buffers it does not use (see sgd_body for why).
static inline __attribute__((always_inline)) void
rmsprop_body(float *restrict p, const float *restrict grad, float *restrict sq, float *restrict ga,
             float *restrict buf, size_t n, float gs, float lr, float alpha, float eps, float wd, float mu,
             const int centered, const int with_momentum) {
    const float one_minus_alpha = 1.0f - alpha;
    for (size_t i = 0; i < n; i++) {
        float g = grad[i] * gs;
        if (wd != 0.0f) g = g + wd * p[i];
        float s = flush_denormal(sq[i] * alpha + one_minus_alpha * g * g);  // square_avg.mul_(alpha).addcmul_(g, g, 1 - alpha)
        sq[i] = s;
        float avg;
        if (centered) {
            float a = flush_denormal(torch_lerp(ga[i], g, one_minus_alpha));  // grad_avg.lerp_(grad, 1 - alpha)
            ga[i] = a;
            avg = __builtin_elementwise_sqrt(s - a * a) + eps;  // square_avg.addcmul(ga, ga, value=-1).sqrt_().add_(eps)
        } else {
            avg = __builtin_elementwise_sqrt(s) + eps;
        }
        if (with_momentum) {
            float b = flush_denormal(buf[i] * mu + g / avg);  // buf.mul_(momentum).addcdiv_(grad, avg)
            buf[i] = b;
            p[i] = p[i] - lr * b;
        } else {
            p[i] = p[i] - lr * (g / avg);  // param.addcdiv_(grad, avg, value=-lr)
        }
    }
}

static inline __attribute__((always_inline)) void
rmsprop_variant(float *restrict p, const float *restrict g, float *restrict sq, float *restrict ga, float *restrict buf,
                size_t n, float gs, float lr, float alpha, float eps, float wd, float mu) {
    if (ga != NULL && buf != NULL) rmsprop_body(p, g, sq, ga, buf, n, gs, lr, alpha, eps, wd, mu, 1, 1);
    else if (ga != NULL) rmsprop_body(p, g, sq, ga, NULL, n, gs, lr, alpha, eps, wd, mu, 1, 0);
    else if (buf != NULL) rmsprop_body(p, g, sq, NULL, buf, n, gs, lr, alpha, eps, wd, mu, 0, 1);
    else rmsprop_body(p, g, sq, NULL, NULL, n, gs, lr, alpha, eps, wd, mu, 0, 0);
}

// Sum of squares in double, in a fixed order that depends on n alone: element
// i goes to lane i % SQ_LANES, the lanes are added pairwise at the end. Each
// lane is its own chain of IEEE operations, so the compiler vectorises the
// lanes without reassociating anything: the same bits on every CPU.
#define SQ_LANES 8
static inline __attribute__((always_inline)) double sum_squares_body(const float *restrict x, size_t n) {
    double lane[SQ_LANES] = {0};
    size_t i = 0;
    for (; i + SQ_LANES <= n; i += SQ_LANES) {
        for (size_t j = 0; j < SQ_LANES; j++) {
            const double v = (double)x[i + j];
            lane[j] += v * v;
        }
    }
    for (size_t j = 0; i + j < n; j++) {
        const double v = (double)x[i + j];
        lane[j] += v * v;
    }
    for (size_t width = SQ_LANES / 2; width > 0; width /= 2) {
        for (size_t j = 0; j < width; j++) lane[j] = lane[j] + lane[j + width];
    }
    return lane[0];
}

static inline __attribute__((always_inline)) void scale_body(float *restrict x, size_t n, float factor) {
    for (size_t i = 0; i < n; i++) x[i] = x[i] * factor;
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
    adam_body(p, g, m, v, n, gs, b1, b2, eps, wd, 1.0f, s, c);
}
__attribute__((target("avx2"))) static void
adamw_avx2(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
           float gs, float b1, float b2, float eps, float decay, float s, float c) {
    adam_body(p, g, m, v, n, gs, b1, b2, eps, 0.0f, decay, s, c);
}
__attribute__((target("avx2"))) static void
rmsprop_avx2(float *restrict p, const float *restrict g, float *restrict sq, float *restrict ga, float *restrict buf,
             size_t n, float gs, float lr, float alpha, float eps, float wd, float mu) {
    rmsprop_variant(p, g, sq, ga, buf, n, gs, lr, alpha, eps, wd, mu);
}
__attribute__((target("avx2"))) static double sum_squares_avx2(const float *restrict x, size_t n) {
    return sum_squares_body(x, n);
}
__attribute__((target("avx2"))) static void scale_avx2(float *restrict x, size_t n, float factor) {
    scale_body(x, n, factor);
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
    adam_body(p, g, m, v, n, gs, b1, b2, eps, wd, 1.0f, step_size, bc2_sqrt);
}

void ck_adamw_step(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                   float gs, float b1, float b2, float eps, float decay, float step_size, float bc2_sqrt) {
#if defined(__x86_64__)
    if (has_avx2()) { adamw_avx2(p, g, m, v, n, gs, b1, b2, eps, decay, step_size, bc2_sqrt); return; }
#endif
    adam_body(p, g, m, v, n, gs, b1, b2, eps, 0.0f, decay, step_size, bc2_sqrt);
}

void ck_rmsprop_step(float *restrict p, const float *restrict g, float *restrict sq, float *restrict ga,
                     float *restrict buf, size_t n, float gs, float lr, float alpha, float eps, float wd, float mu) {
#if defined(__x86_64__)
    if (has_avx2()) { rmsprop_avx2(p, g, sq, ga, buf, n, gs, lr, alpha, eps, wd, mu); return; }
#endif
    rmsprop_variant(p, g, sq, ga, buf, n, gs, lr, alpha, eps, wd, mu);
}

double ck_sum_squares(const float *restrict x, size_t n) {
#if defined(__x86_64__)
    if (has_avx2()) return sum_squares_avx2(x, n);
#endif
    return sum_squares_body(x, n);
}

void ck_scale(float *restrict x, size_t n, float factor) {
#if defined(__x86_64__)
    if (has_avx2()) { scale_avx2(x, n, factor); return; }
#endif
    scale_body(x, n, factor);
}

void ck_sgd_step(float *restrict p, const float *restrict g, float *restrict buf, size_t n, float gs, float lr,
                 float mu, float damp, int nesterov, float wd, int first) {
#if defined(__x86_64__)
    if (has_avx2()) { sgd_avx2(p, g, buf, n, gs, lr, mu, damp, nesterov, wd, first); return; }
#endif
    sgd_body(p, g, buf, n, gs, lr, mu, damp, nesterov, wd, first);
}
