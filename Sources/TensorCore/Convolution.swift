import CKernels

/// 2-D convolution over NCHW batches (PyTorch's F.conv2d: a cross-correlation,
/// zero padding).
///
/// Unless Winograd's F(2x2, 3x3) applies (below), all three passes (y, dW,
/// dx) run on the direct kernels of CKernels/conv_direct.c, which read each
/// kernel tap as one run over the input split into its stride phases (the
/// zero-padded image itself for stride 1) instead of unfolding it into an
/// im2col matrix: for every output pixel the sums
///
///     y[b, o, oy, ox] = bias[o] + sum_{c,ki,kj} W[o, c, ki, kj] x[b, c, oy*stride + ki - padding, ox*stride + kj - padding]
///
/// (x zero outside the image), dW and dx their adjoints. Measured on the
/// user-shaped 3x3 layers, the stride-1 kernels replaced an sgemm whose inner
/// dimension is the output channels (32 or 64) plus col2im at about twice
/// the speed; the stride-2 ones replaced im2col and one sgemm per sample
/// (whose N was only the 196 or 49 output pixels) at about its speed (the
/// README's figures of 2026-12-04), leaving one direct road for every stride.
/// The direct input gradient correlates the output gradient, padded, with the
/// flipped kernel; where that padding would be most of its products (the
/// model zoo's 5x5 without padding: 2.25 times the products on 8x8 outputs,
/// `ck_conv2d_input_overwork`) dx instead comes from one sgemm W^T dy[b] per
/// sample and col2im, which measured faster there.
///
/// 3x3 kernels at stride 1 with at least 16 channels on both sides (most of
/// what users write) take Winograd's F(2x2, 3x3) instead, for all three
/// passes (CKernels/conv_winograd.c, `ck_conv2d_winograd_fits`): 2.25 times
/// fewer products, measured at 1.36-1.76 times the direct kernels' speed for
/// y and dx on those layers and 1.23-1.39 times for dW. Its results differ
/// from the direct sums in the last bits and, like theirs, depend on the
/// shapes only, so every rank gets the same bits.
extension Tensor {
    /// The output size of a convolution or pooling window along one axis.
    @inline(__always)
    static func convolutionOutputSize(_ input: Int, kernel: Int, stride: Int, padding: Int) -> Int {
        (input + 2 * padding - kernel) / stride + 1
    }

    /// Above this share of extra products the input gradient leaves the direct kernel.
    static let directInputGradientOverwork = 1.5

    /// Convolves `x` [B, C, H, W] with `weight` [O, C, kh, kw] and adds `bias` [O]:
    /// the result is [B, O, (H + 2 padding - kh) / stride + 1, (W + 2 padding - kw) / stride + 1].
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
        ensure(x.rank == 4, "conv2d needs input [batch, channels, height, width], got \(x.shape)")
        ensure(weight.rank == 4, "conv2d needs weight [out, in, kh, kw], got \(weight.shape)")
        ensure(stride >= 1, "conv2d stride must be at least 1, got \(stride)")
        ensure(padding >= 0, "conv2d padding must be non-negative, got \(padding)")
        let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (outChannels, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        ensure(weight.shape[1] == channels,
                     "conv2d: input \(x.shape) has \(channels) channels but weight \(weight.shape) expects \(weight.shape[1])")
        if let bias {
            ensure(bias.shape == [outChannels], "conv2d: bias \(bias.shape) does not match \(outChannels) output channels")
        }
        ensure(height + 2 * padding >= kh && width + 2 * padding >= kw,
                     "conv2d: kernel \(kh)x\(kw) is larger than the padded input \(height + 2 * padding)x\(width + 2 * padding)")
        let oh = convolutionOutputSize(height, kernel: kh, stride: stride, padding: padding)
        let ow = convolutionOutputSize(width, kernel: kw, stride: stride, padding: padding)
        let out = Tensor.uninitialized([batch, outChannels, oh, ow])
        let winograd = ck_conv2d_winograd_fits(channels, outChannels, kh, kw, stride, padding) == 1
        let status = winograd
            ? ck_conv2d_winograd_forward(x.data, weight.data, bias?.data, out.data, batch, channels, height, width,
                                         outChannels, padding)
            : ck_conv2d_forward(x.data, weight.data, bias?.data, out.data, batch, channels, height, width,
                                outChannels, kh, kw, stride, padding)
        ensure(status == 0, "conv2d: out of memory for the forward kernel's scratch")

        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return out.recorded(inputs) { g in
            if weight.requiresGrad {
                let status = winograd
                    ? ck_conv2d_winograd_backward_weight(x.data, g.data, weight.gradData(), batch, channels, height,
                                                         width, outChannels, padding)
                    : ck_conv2d_backward_weight(x.data, g.data, weight.gradData(), batch, channels, height,
                                                width, outChannels, kh, kw, stride, padding)
                ensure(status == 0, "conv2d backward: out of memory for the weight gradient's scratch")
            }
            if let bias, bias.requiresGrad {
                let gb = bias.gradData()
                for b in 0..<batch { ck_add_row_sums(g.data + b * outChannels * oh * ow, gb, outChannels, oh * ow) }
            }
            guard x.requiresGrad else { return }
            if winograd {
                let (gx, accumulate) = x.gradientForWriting()
                let status = ck_conv2d_winograd_backward_input(g.data, weight.data, gx, batch, channels, height, width,
                                                               outChannels, padding, accumulate ? 1 : 0)
                ensure(status == 0, "conv2d backward: out of memory for the input gradient's scratch")
            } else if ck_conv2d_input_overwork(height, width, kh, kw, stride, padding) > directInputGradientOverwork {
                unfoldedInputGradient(g, weight: weight, into: x, stride: stride, padding: padding, outputSize: (oh, ow))
            } else {
                let (gx, accumulate) = x.gradientForWriting()
                let status = ck_conv2d_backward_input(g.data, weight.data, gx, batch, channels, height, width,
                                                      outChannels, kh, kw, stride, padding, accumulate ? 1 : 0)
                ensure(status == 0, "conv2d backward: out of memory for the input gradient's scratch")
            }
        }
    }

    /// dx += col2im(W^T dy[b]) for each sample b: one sgemm [C*kh*kw, O] x
    /// [O, oh*ow] per sample into a reused `col`.
    private static func unfoldedInputGradient(_ g: Tensor, weight: Tensor, into x: Tensor, stride: Int, padding: Int,
                                              outputSize: (Int, Int)) {
        let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (outChannels, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let (oh, ow) = outputSize
        let (k, p) = (channels * kh * kw, oh * ow)
        let col = Storage(count: k * p, zeroed: false)
        let gx = x.gradData()
        for b in 0..<batch {
            gemm(transposeA: true, transposeB: false, m: k, n: p, k: outChannels,
                 weight.data, lda: k, g.data + b * outChannels * p, ldb: p, beta: 0, col.base, ldc: p)
            ck_col2im_add(col.base, p, gx + b * channels * height * width, channels, height, width, kh, kw,
                          stride, padding, oh, ow)
        }
    }
}
