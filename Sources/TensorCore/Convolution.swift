import CKernels

/// 2-D convolution over NCHW batches (PyTorch's F.conv2d: a cross-correlation,
/// zero padding).
///
/// The products are those of im2col: for sample b, `col` [C*kh*kw, oh*ow]
/// holds in row (c, ki, kj) and column (oy, ox) the input pixel
/// x[b, c, oy*stride + ki - padding, ox*stride + kj - padding] (0 outside the
/// image), and
///
///     y[b] [O, oh*ow] = W [O, C*kh*kw] col + bias
///     dW             += dy[b] col^T
///     dcol            = W^T dy[b],   dx[b] += col2im(dcol)
///     dbias          += row sums of dy[b]
///
/// With stride 1 and padding smaller than the kernel (every model of the zoo
/// and the "same" convolutions users write), all three come from the direct
/// kernels of CKernels/conv_direct.c, which read the zero-padded input in
/// place instead of unfolding it; the input gradient is the forward kernel
/// run on dy padded by k - 1 - padding with the weight transposed and
/// flipped:
///
///     dx[b, c] += sum_o dy[b, o] (*) flip(W[o, c])   (a "full" correlation)
///
/// Measured on the user-shaped 3x3 layers, this replaced an sgemm whose
/// inner dimension is the output channels (32 or 64) plus col2im, at about
/// twice the speed. Where that padding would be most of the work (2 padding <
/// k - 1: the zoo's 5x5 without padding, whose full correlation multiplies
/// 2.25 times the products on 8x8 outputs) dx stays on sgemm and col2im,
/// which measured faster there. Other strides and paddings use im2col and
/// sgemm for all three, one sample at a time, so `col` stays in cache;
/// backward unfolds the input again rather than keeping every sample's `col`.
extension Tensor {
    /// The output size of a convolution or pooling window along one axis.
    @inline(__always)
    static func convolutionOutputSize(_ input: Int, kernel: Int, stride: Int, padding: Int) -> Int {
        (input + 2 * padding - kernel) / stride + 1
    }

    /// Convolves `x` [B, C, H, W] with `weight` [O, C, kh, kw] and adds `bias` [O]:
    /// the result is [B, O, (H + 2 padding - kh) / stride + 1, (W + 2 padding - kw) / stride + 1].
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
        ensure(x.rank == 4, "conv2d needs input [batch, channels, height, width], got \(x.shape)")
        ensure(weight.rank == 4, "conv2d needs weight [out, in, kh, kw], got \(weight.shape)")
        ensure(stride >= 1, "conv2d stride must be at least 1, got \(stride)")
        ensure(padding >= 0, "conv2d padding must be non-negative, got \(padding)")
        let (channels, height, width) = (x.shape[1], x.shape[2], x.shape[3])
        let (outChannels, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        ensure(weight.shape[1] == channels,
                     "conv2d: input \(x.shape) has \(channels) channels but weight \(weight.shape) expects \(weight.shape[1])")
        if let bias {
            ensure(bias.shape == [outChannels], "conv2d: bias \(bias.shape) does not match \(outChannels) output channels")
        }
        ensure(height + 2 * padding >= kh && width + 2 * padding >= kw,
                     "conv2d: kernel \(kh)x\(kw) is larger than the padded input \(height + 2 * padding)x\(width + 2 * padding)")
        if stride == 1 && padding < min(kh, kw) {
            return directConvolution(x, weight: weight, bias: bias, padding: padding)
        }
        return unfoldedConvolution(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }

    /// `x` [B, C, H, W] with a zero border of `padding` ([B, C, H + 2 padding,
    /// W + 2 padding]), not recorded; `x` itself for 0.
    static func zeroPadded(_ x: Tensor, _ padding: Int) -> Tensor {
        if padding == 0 { return x }
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let out = Tensor.uninitialized([b, c, h + 2 * padding, w + 2 * padding])
        ck_pad2d(x.data, out.data, b * c, h, w, padding, padding)
        return out
    }

    /// Stride 1, padding under the kernel size: y, dW and dx on the direct kernels.
    private static func directConvolution(_ x: Tensor, weight: Tensor, bias: Tensor?, padding: Int) -> Tensor {
        let (batch, channels) = (x.shape[0], x.shape[1])
        let (outChannels, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let padded = zeroPadded(x, padding)  // [B, C, H + 2p, W + 2p], kept for dW
        let (hp, wp) = (padded.shape[2], padded.shape[3])
        let (oh, ow) = (hp - kh + 1, wp - kw + 1)
        let out = Tensor.uninitialized([batch, outChannels, oh, ow])
        let status = ck_conv2d_forward(padded.data, weight.data, bias?.data, out.data, batch, channels, hp, wp,
                                       outChannels, kh, kw, 0)
        ensure(status == 0, "conv2d: out of memory for the forward kernel's scratch")

        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return out.recorded(inputs) { g in
            if weight.requiresGrad {
                let status = ck_conv2d_backward_weight(padded.data, g.data, weight.gradData(), batch, channels,
                                                       hp, wp, outChannels, kh, kw)
                ensure(status == 0, "conv2d backward: out of memory for the weight gradient's partial sums")
            }
            if let bias, bias.requiresGrad {
                let gb = bias.gradData()
                for b in 0..<batch { ck_add_row_sums(g.data + b * outChannels * oh * ow, gb, outChannels, oh * ow) }
            }
            if x.requiresGrad && 2 * padding < min(kh, kw) - 1 {
                // Mostly padding for the direct kernel (the zoo's 5x5 without padding): sgemm + col2im.
                unfoldedInputGradient(g, weight: weight, into: x, stride: 1, padding: padding, outputSize: (oh, ow))
            } else if x.requiresGrad {
                // dx = dy padded by k - 1 - p, correlated with W^T flipped [C, O, kh, kw].
                let flipped = Tensor.uninitialized([channels, outChannels, kh, kw])
                for o in 0..<outChannels {
                    for c in 0..<channels {
                        let source = weight.data + (o * channels + c) * kh * kw
                        let target = flipped.data + (c * outChannels + o) * kh * kw
                        for i in 0..<(kh * kw) { target[i] = source[kh * kw - 1 - i] }
                    }
                }
                let (padH, padW) = (kh - 1 - padding, kw - 1 - padding)
                let gp = Tensor.uninitialized([batch, outChannels, oh + 2 * padH, ow + 2 * padW])
                ck_pad2d(g.data, gp.data, batch * outChannels, oh, ow, padH, padW)
                let status = ck_conv2d_forward(gp.data, flipped.data, nil, x.gradData(), batch, outChannels,
                                               oh + 2 * padH, ow + 2 * padW, channels, kh, kw, 1)
                ensure(status == 0, "conv2d backward: out of memory for the input gradient's scratch")
            }
        }
    }

    /// Any stride and padding, through im2col and one sgemm per sample.
    private static func unfoldedConvolution(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int) -> Tensor {
        let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (outChannels, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let oh = convolutionOutputSize(height, kernel: kh, stride: stride, padding: padding)
        let ow = convolutionOutputSize(width, kernel: kw, stride: stride, padding: padding)
        let k = channels * kh * kw   // rows of col
        let p = oh * ow              // columns of col: output pixels per channel
        let inSize = channels * height * width, outSize = outChannels * p
        // im2col of sample b into `col` [k, p].
        func unfold(_ b: Int, into col: UnsafeMutablePointer<Float>) {
            ck_im2col(x.data + b * inSize, col, p, channels, height, width, kh, kw, stride, padding, oh, ow)
        }

        let out = Tensor.uninitialized([batch, outChannels, oh, ow])
        let col = Storage(count: k * p, zeroed: false)
        for b in 0..<batch {
            let yb = out.data + b * outSize
            if let bias {
                for o in 0..<outChannels { (yb + o * p).initialize(repeating: bias.data[o], count: p) }
            }
            unfold(b, into: col.base)
            gemm(transposeA: false, transposeB: false, m: outChannels, n: p, k: k,
                 weight.data, lda: k, col.base, ldb: p, beta: bias == nil ? 0 : 1, yb, ldc: p)
        }

        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return out.recorded(inputs) { g in
            let col = Storage(count: k * p, zeroed: false)
            let gw = weight.requiresGrad ? weight.gradData() : nil
            let gb = bias.flatMap { $0.requiresGrad ? $0.gradData() : nil }
            for b in 0..<batch {
                let gyb = g.data + b * outSize
                if let gw {       // dW [O, k] += dy[b] [O, p] col^T
                    unfold(b, into: col.base)
                    gemm(transposeA: false, transposeB: true, m: outChannels, n: k, k: p,
                         gyb, lda: p, col.base, ldb: p, beta: 1, gw, ldc: k)
                }
                if let gb { ck_add_row_sums(gyb, gb, outChannels, p) }
            }
            if x.requiresGrad {
                unfoldedInputGradient(g, weight: weight, into: x, stride: stride, padding: padding, outputSize: (oh, ow))
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
