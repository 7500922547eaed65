import CKernels

/// Max pooling over NCHW batches (PyTorch's F.max_pool2d, no padding, floor
/// mode). Forward remembers where each maximum came from; backward sends each
/// output gradient to that one input element (added, so overlapping windows
/// that pick the same element get every contribution).
extension Tensor {
    /// The maximum of every `kernelSize` x `kernelSize` window of `x` [B, C, H, W],
    /// windows `stride` apart (default: `kernelSize`, so they tile the image):
    /// [B, C, (H - kernelSize) / stride + 1, (W - kernelSize) / stride + 1].
    /// Ties go to the first maximum in row-major window order, as in PyTorch.
    public static func maxPool2d(_ x: Tensor, kernelSize: Int, stride: Int? = nil) -> Tensor {
        let stride = stride ?? kernelSize
        ensure(x.rank == 4, "maxPool2d needs input [batch, channels, height, width], got \(x.shape)")
        ensure(kernelSize >= 1 && stride >= 1, "maxPool2d kernel size and stride must be at least 1, got \(kernelSize) and \(stride)")
        let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        ensure(height >= kernelSize && width >= kernelSize,
                     "maxPool2d: window \(kernelSize)x\(kernelSize) is larger than the input \(height)x\(width)")
        let oh = convolutionOutputSize(height, kernel: kernelSize, stride: stride, padding: 0)
        let ow = convolutionOutputSize(width, kernel: kernelSize, stride: stride, padding: 0)
        let planes = batch * channels
        let out = Tensor.uninitialized([batch, channels, oh, ow])
        // Index of each output's maximum within its input plane.
        let argmax = [Int32](unsafeUninitializedCapacity: out.count) { buffer, initialized in
            ck_maxpool2d_forward(x.data, out.data, buffer.baseAddress, planes, height, width,
                                 kernelSize, kernelSize, stride, oh, ow)
            initialized = out.count
        }
        return out.recorded([x]) { g in
            let (gx, accumulate) = x.gradientForWriting()
            argmax.withUnsafeBufferPointer {
                ck_maxpool2d_backward(g.data, $0.baseAddress, gx, planes, height * width, oh * ow, accumulate ? 1 : 0)
            }
        }
    }
}

/// Average pooling over NCHW batches (PyTorch's F.avg_pool2d with its
/// defaults: floor mode, count_include_pad=True). Every window's sum is
/// divided by kernelSize^2, zeros of the padding included; backward spreads
/// each output gradient evenly, g / kernelSize^2, over its window's real pixels.
extension Tensor {
    /// The mean of every `kernelSize` x `kernelSize` window of `x` [B, C, H, W]
    /// zero-padded by `padding` on every side, windows `stride` apart
    /// (default: `kernelSize`): [B, C, (H + 2 padding - kernelSize) / stride + 1,
    /// (W + 2 padding - kernelSize) / stride + 1].
    public static func avgPool2d(_ x: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        let stride = stride ?? kernelSize
        ensure(x.rank == 4, "avgPool2d needs input [batch, channels, height, width], got \(x.shape)")
        ensure(kernelSize >= 1 && stride >= 1,
                     "avgPool2d kernel size and stride must be at least 1, got \(kernelSize) and \(stride)")
        ensure(padding >= 0 && 2 * padding <= kernelSize,
                     "avgPool2d padding must be in 0...kernelSize / 2 (PyTorch's limit), got \(padding) for kernel \(kernelSize)")
        let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        ensure(height + 2 * padding >= kernelSize && width + 2 * padding >= kernelSize,
                     "avgPool2d: window \(kernelSize)x\(kernelSize) is larger than the padded input \(height + 2 * padding)x\(width + 2 * padding) of \(x.shape)")
        let oh = convolutionOutputSize(height, kernel: kernelSize, stride: stride, padding: padding)
        let ow = convolutionOutputSize(width, kernel: kernelSize, stride: stride, padding: padding)
        let planes = batch * channels
        let scale = 1 / Float(kernelSize * kernelSize)
        // Calls body(outputIndex, inputIndex) for every real (unpadded) pixel of every window.
        func forEachWindowPixel(_ body: (Int, Int) -> Void) {
            for p in 0..<planes {
                for oy in 0..<oh {
                    let y0 = oy * stride - padding
                    for ox in 0..<ow {
                        let x0 = ox * stride - padding, o = (p * oh + oy) * ow + ox
                        for iy in Swift.max(y0, 0)..<Swift.min(y0 + kernelSize, height) {
                            for ix in Swift.max(x0, 0)..<Swift.min(x0 + kernelSize, width) {
                                body(o, (p * height + iy) * width + ix)
                            }
                        }
                    }
                }
            }
        }
        let out = Tensor.zeros([batch, channels, oh, ow])
        let px = x.data, po = out.data
        forEachWindowPixel { o, i in po[o] += px[i] }
        for o in 0..<out.count { po[o] *= scale }
        return out.recorded([x]) { g in
            let gx = x.gradData(), pg = g.data
            forEachWindowPixel { o, i in gx[i] += pg[o] * scale }
        }
    }
}
