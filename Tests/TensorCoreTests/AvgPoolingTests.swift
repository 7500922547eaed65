import Testing
import TensorCore

// Average pooling: values by hand and against a direct Double definition
// (count_include_pad=True: padded zeros count in the divisor), gradients
// against finite differences.

/// F.avg_pool2d by its definition, in Double.
private func referenceAvgPool(_ x: Tensor, kernel: Int, stride: Int, padding: Int) -> [Double] {
    let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1
    var out: [Double] = []
    for p in 0..<(b * c) {
        for oy in 0..<oh {
            for ox in 0..<ow {
                var s = 0.0
                for ky in 0..<kernel {
                    for kx in 0..<kernel {
                        let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                        if iy >= 0 && iy < h && ix >= 0 && ix < w { s += Double(x.data[(p * h + iy) * w + ix]) }
                    }
                }
                out.append(s / Double(kernel * kernel))
            }
        }
    }
    return out
}

@Test func avgPoolOfA4x4ImageByHand() {
    let x = Tensor(shape: [1, 1, 4, 4], values: (0..<16).map(Float.init), requiresGrad: true)
    let y = Tensor.avgPool2d(x, kernelSize: 2)
    #expect(y.shape == [1, 1, 2, 2])
    #expect(y.scalars == [2.5, 4.5, 10.5, 12.5])
    y.sum().backward()
    #expect(x.grad!.scalars == [Float](repeating: 0.25, count: 16))
}

@Test func avgPoolCountsThePaddingInTheDivisor() {
    // 2x2 ones, kernel 2, stride 1, padding 1: corner windows hold one real
    // pixel, so 1/4 (PyTorch's count_include_pad=True), edges 2/4, centre 4/4.
    let x = Tensor.ones([1, 1, 2, 2])
    let y = Tensor.avgPool2d(x, kernelSize: 2, stride: 1, padding: 1)
    #expect(y.shape == [1, 1, 3, 3])
    #expect(y.scalars == [0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25])
}

@Test("avgPool2d values match the definition",
      arguments: [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0), (4, 3, 2), (1, 1, 0)])
func avgPoolValues(kernel: Int, stride: Int, padding: Int) {
    let x = randomTensor([2, 3, 7, 6], seed: 330)
    let y = Tensor.avgPool2d(x, kernelSize: kernel, stride: stride, padding: padding)
    let oh = (7 + 2 * padding - kernel) / stride + 1, ow = (6 + 2 * padding - kernel) / stride + 1
    #expect(y.shape == [2, 3, oh, ow])
    expectClose(y.scalars, referenceAvgPool(x, kernel: kernel, stride: stride, padding: padding),
                absolute: 1e-6, relative: 1e-5)
}

@Test("avgPool2d gradients match finite differences", arguments: [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 1)])
func avgPoolGradients(kernel: Int, stride: Int, padding: Int) {
    let x = randomTensor([2, 2, 5, 4], seed: 331)
    expectGradientsMatch([x]) { Tensor.avgPool2d($0[0], kernelSize: kernel, stride: stride, padding: padding) }
}
