// Hot loops over flat buffers, in C so they vectorise: Swift's sqrt carries an
// errno check that blocks vectorisation, and Swift cannot say `restrict`.
// Each kernel has one scalar definition; an AVX2 copy is chosen at run time.
#pragma once
#include <stddef.h>

/// torch.optim.Adam's update over n parameters (amsgrad off). step_size is
/// lr / (1 - beta1^t) and bc2_sqrt is sqrt(1 - beta2^t), both from the caller.
/// Each gradient is first multiplied by grad_scale (1 / world size turns an
/// allreduced sum into the mean without another pass over memory).
void ck_adam_step(float *restrict param, const float *restrict grad, float *restrict exp_avg,
                  float *restrict exp_avg_sq, size_t n, float grad_scale, float beta1, float beta2,
                  float eps, float weight_decay, float step_size, float bc2_sqrt);

/// torch.optim.SGD's update over n parameters. momentum_buffer may be NULL
/// when momentum is 0; first_step sets the buffer to the gradient; grad_scale
/// as for Adam.
void ck_sgd_step(float *restrict param, const float *restrict grad, float *restrict momentum_buffer,
                 size_t n, float grad_scale, float lr, float momentum, float dampening, int nesterov,
                 float weight_decay, int first_step);

/// y = sigmoid(x) = 1 / (1 + e^-x), overflow-free.
void ck_sigmoid_forward(const float *restrict x, float *restrict y, size_t n);

/// Sum over n of -(t log p + (1 - t) log(1 - p)), each log clamped at -100
/// (PyTorch's BCELoss before the mean). NaN in p stays NaN.
double ck_bce_sum(const float *restrict p, const float *restrict t, size_t n);

/// grad_p[i] += scale (p - t) / max(p (1 - p), 1e-12)  (PyTorch's BCE backward).
void ck_bce_backward(const float *restrict p, const float *restrict t, float *restrict grad_p,
                     size_t n, float scale);
