// Hot loops over flat buffers, in C so they vectorise: Swift's sqrt carries an
// errno check that blocks vectorisation, and Swift cannot say `restrict`.
// Each kernel has one scalar definition; an AVX2 copy is chosen at run time.
#pragma once
#include <stddef.h>
#include <stdint.h>

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

/// torch.optim.AdamW's update: param *= decay (decay = 1 - lr * weight_decay,
/// decoupled from the gradient), then ck_adam_step's update without the L2
/// term. step_size, bc2_sqrt and grad_scale as for ck_adam_step.
void ck_adamw_step(float *restrict param, const float *restrict grad, float *restrict exp_avg,
                   float *restrict exp_avg_sq, size_t n, float grad_scale, float beta1, float beta2,
                   float eps, float decay, float step_size, float bc2_sqrt);

/// torch.optim.RMSprop's update over n parameters. grad_avg is NULL when not
/// centered, momentum_buffer NULL when momentum is 0; grad_scale as for Adam.
void ck_rmsprop_step(float *restrict param, const float *restrict grad, float *restrict square_avg,
                     float *restrict grad_avg, float *restrict momentum_buffer, size_t n, float grad_scale,
                     float lr, float alpha, float eps, float weight_decay, float momentum);

/// The sum of x[i]^2, accumulated in double in a fixed order that depends on
/// n only (never on the CPU or a thread count): the same bits on every rank.
double ck_sum_squares(const float *restrict x, size_t n);

/// x[i] *= factor.
void ck_scale(float *restrict x, size_t n, float factor);

/// y = sigmoid(x) = 1 / (1 + e^-x), overflow-free.
void ck_sigmoid_forward(const float *restrict x, float *restrict y, size_t n);

/// y = tanh(x) (Cephes' tanhf, about 1 ulp); NaN stays NaN.
void ck_tanh_forward(const float *restrict x, float *restrict y, size_t n);

/// gx[i] += g[i] y[i] (1 - y[i]): sigmoid's backward from its output y.
void ck_sigmoid_backward(const float *restrict y, const float *restrict g, float *restrict gx, size_t n);

/// gx[i] += g[i] (1 - y[i]^2): tanh's backward from its output y.
void ck_tanh_backward(const float *restrict y, const float *restrict g, float *restrict gx, size_t n);

/// Sum over n of -(t log p + (1 - t) log(1 - p)), each log clamped at -100
/// (PyTorch's BCELoss before the mean). NaN in p stays NaN.
double ck_bce_sum(const float *restrict p, const float *restrict t, size_t n);

/// grad_p[i] += scale (p - t) / max(p (1 - p), 1e-12)  (PyTorch's BCE backward).
void ck_bce_backward(const float *restrict p, const float *restrict t, float *restrict grad_p,
                     size_t n, float scale);

/// Adds every element of col [channels*kh*kw, oh*ow] (row (c, ki, kj), column
/// (oy, ox), rows `ldcol` floats apart) into the pixel of x [channels, height,
/// width] that the convolution's window (oy, ox) reads at (c, ki, kj); those
/// in the zero padding are dropped. With col = W^T dy, this is dx.
void ck_col2im_add(const float *restrict col, size_t ldcol, float *restrict x, size_t channels, size_t height,
                   size_t width, size_t kh, size_t kw, size_t stride, size_t pad, size_t oh, size_t ow);

/// Max pooling of `planes` images [height, width] into y [planes, oh, ow], no
/// padding; argmax gets each maximum's index within its input plane (the
/// first maximum in window order, or the first NaN, as PyTorch).
void ck_maxpool2d_forward(const float *restrict x, float *restrict y, int32_t *restrict argmax, size_t planes,
                          size_t height, size_t width, size_t kh, size_t kw, size_t stride, size_t oh, size_t ow);

/// gx[p, argmax[p, i]] += gy[p, i] for every plane p and output element i;
/// with `accumulate` 0 each plane of gx is zeroed first (overwritten).
void ck_maxpool2d_backward(const float *restrict gy, const int32_t *restrict argmax, float *restrict gx,
                           size_t planes, size_t plane_size, size_t out_plane_size, int accumulate);

/// Batch normalisation's per-channel sums over v [batch, channels, positions],
/// in Double and a fixed order (channel_sums.c): with x NULL, sums[c] = sum v
/// and sums[C + c] = sum v^2; with x (and mean, invstd [channels]), sums[C +
/// c] = sum v (x - mean) invstd instead.
void ck_channel_sums(const float *restrict v, const float *restrict x, const double *restrict mean,
                     const double *restrict invstd, size_t batch, size_t channels, size_t positions,
                     double *restrict sums);

/// out[r] += sum over j of a[r, j], for a [rows, cols].
void ck_add_row_sums(const float *restrict a, float *restrict out, size_t rows, size_t cols);

/// gx[i] += x[i] > 0 ? g[i] : 0 (ReLU's backward); with `accumulate` 0,
/// gx[i] = that instead.
void ck_relu_backward(const float *restrict x, const float *restrict g, float *restrict gx, size_t n, int accumulate);

/// Direct convolution (conv_direct.c) of a batch, any kernel size, stride and
/// zero padding (AVX-512VL, AVX2 or scalar code, chosen once from the CPU; the
/// environment variable CKERNELS_ISA=avx2 or CKERNELS_ISA=scalar caps the
/// choice, for tests): y [batch, out_channels, oh, ow] = x [batch, channels,
/// height, width] (*) w [out_channels, channels, kh, kw] + bias (NULL for
/// none), oh = (height + 2 padding - kh) / stride + 1 and ow likewise; y is
/// overwritten. Returns 0, or -1 when its scratch cannot be allocated.
int ck_conv2d_forward(const float *restrict x, const float *restrict w, const float *restrict bias,
                      float *restrict y, size_t batch, size_t channels, size_t height, size_t width,
                      size_t out_channels, size_t kh, size_t kw, size_t stride, size_t padding);

/// dw [out_channels, channels, kh, kw] += the weight gradient of that
/// convolution for the output gradient g [batch, out_channels, oh, ow].
/// Returns 0, or -1 when its scratch cannot be allocated.
int ck_conv2d_backward_weight(const float *restrict x, const float *restrict g, float *restrict dw,
                              size_t batch, size_t channels, size_t height, size_t width, size_t out_channels,
                              size_t kh, size_t kw, size_t stride, size_t padding);

/// dx [batch, channels, height, width] += the input gradient of that
/// convolution for the output gradient g (dx = it, with `accumulate` 0).
/// Returns 0, or -1 when its scratch cannot be allocated.
int ck_conv2d_backward_input(const float *restrict g, const float *restrict w, float *restrict dx,
                             size_t batch, size_t channels, size_t height, size_t width, size_t out_channels,
                             size_t kh, size_t kw, size_t stride, size_t padding, int accumulate);

/// Whether Winograd's F(2x2, 3x3) (conv_winograd.c) computes a convolution,
/// and its two gradients, faster than the direct kernels: 3x3 kernels at
/// stride 1, padding at most 2, at least 16 channels in and out. 1 or 0.
int ck_conv2d_winograd_fits(size_t in_channels, size_t out_channels, size_t kh, size_t kw, size_t stride,
                            size_t padding);

/// ck_conv2d_forward for 3x3 kernels at stride 1 (padding at most 2) by
/// Winograd's F(2x2, 3x3): the same sums, 2.25 times fewer products, results
/// that differ in the last bits. Returns 0, or -1 when its scratch cannot be
/// allocated or the shape is not one it takes (padding above 2, a padded
/// input smaller than the kernel).
int ck_conv2d_winograd_forward(const float *restrict x, const float *restrict w, const float *restrict bias,
                               float *restrict y, size_t batch, size_t channels, size_t height, size_t width,
                               size_t out_channels, size_t padding);

/// ck_conv2d_backward_input for 3x3 kernels at stride 1 (padding at most 2)
/// by Winograd's F(2x2, 3x3). Returns 0, or -1 as ck_conv2d_winograd_forward.
int ck_conv2d_winograd_backward_input(const float *restrict g, const float *restrict w, float *restrict dx,
                                      size_t batch, size_t channels, size_t height, size_t width,
                                      size_t out_channels, size_t padding, int accumulate);

/// ck_conv2d_backward_weight for 3x3 kernels at stride 1 (padding at most 2)
/// by Winograd's F(2x2, 3x3): dw += the weight gradient. Returns 0, or -1 as
/// ck_conv2d_winograd_forward.
int ck_conv2d_winograd_backward_weight(const float *restrict x, const float *restrict g, float *restrict dw,
                                       size_t batch, size_t channels, size_t height, size_t width,
                                       size_t out_channels, size_t padding);

/// The products ck_conv2d_backward_input multiplies over those of the
/// convolution itself: above 1 by the share of its windows that fall on the
/// output gradient's zero border (2.25 for a 5x5 kernel without padding on
/// 12x12 inputs, 1 for 3x3 with padding 1 at stride 1 or 2).
double ck_conv2d_input_overwork(size_t height, size_t width, size_t kh, size_t kw, size_t stride, size_t padding);

/// 1 when every one of the n floats is finite (no NaN, no infinity), else 0.
int ck_all_finite(const float *restrict x, size_t n);

/// Keeps blocks up to 32 MiB, and 64 MiB of free heap, in the process instead
/// of returning them to the kernel at every free (malloc_tuning.c).
void ck_keep_freed_memory(void);

/// The most leaves ck_tree_sum takes.
#define CK_TREE_MAX_LEAVES 64

/// dst[i] = the complete binary tree sum of leaves[0][i] ... leaves[k-1][i]:
/// ((l0 + l1) + (l2 + l3)) + ..., for k a power of two up to
/// CK_TREE_MAX_LEAVES. One pass: every leaf read once, dst written once; dst
/// may be one of the leaves. The order of additions is fixed, so the result
/// is the same bits as adding pairs level by level in separate passes.
void ck_tree_sum(float *dst, const float *const *leaves, size_t k, size_t n);

/// dst = ((leaves[0] + leaves[1]) + leaves[2]) + ... over n floats, left to
/// right, for any k >= 1, in blocks that stay in L1; dst may be one of the
/// leaves (each block of every leaf is read before that block of dst is written).
void ck_sequential_sum(float *dst, const float *const *leaves, size_t k, size_t n);
