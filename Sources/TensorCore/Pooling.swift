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
        precondition(x.rank == 4, "maxPool2d needs input [batch, channels, height, width], got \(x.shape)")
        precondition(kernelSize >= 1 && stride >= 1, "maxPool2d kernel size and stride must be at least 1, got \(kernelSize) and \(stride)")
        let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(height >= kernelSize && width >= kernelSize,
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
            argmax.withUnsafeBufferPointer {
                ck_maxpool2d_backward(g.data, $0.baseAddress, x.gradData(), planes, height * width, oh * ow)
            }
        }
    }
}
