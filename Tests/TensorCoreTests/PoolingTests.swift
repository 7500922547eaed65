import Testing
import TensorCore

/// Max pooling by its definition, with PyTorch's tie rule (first maximum in
/// row-major window order; a NaN wins): the outputs and, for `upstream`, the
/// input gradient.
func naiveMaxPool(_ x: [Float], shape: [Int], kernel: Int, stride: Int,
                  upstream: [Float]) -> (y: [Float], dx: [Float]) {
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
    let oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1
    var y = [Float](repeating: 0, count: n * c * oh * ow)
    var dx = [Float](repeating: 0, count: x.count)
    for p in 0..<(n * c) {
        for oy in 0..<oh {
            for ox in 0..<ow {
                var best = -1
                for i in 0..<kernel {
                    for j in 0..<kernel {
                        let index = p * h * w + (oy * stride + i) * w + ox * stride + j
                        if best < 0 || x[index] > x[best] || (x[index].isNaN && !x[best].isNaN) { best = index }
                    }
                }
                let yi = (p * oh + oy) * ow + ox
                y[yi] = x[best]
                dx[best] += upstream[yi]
            }
        }
    }
    return (y, dx)
}

/// Distinct values, shuffled, at least `gap` apart: no ties, and a finite
/// difference step below gap / 2 never changes which element is the maximum.
func distinctValues(_ shape: [Int], gap: Float = 0.05, seed: UInt64) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    let count = shape.reduce(1, *)
    let order = generator.permutation(count)
    return Tensor(shape: shape, values: order.map { Float($0) * gap - Float(count) * gap / 2 })
}

@Suite("MaxPool2d op")
struct PoolingTests {
    @Test("2x2 windows of a 4x4 image, by hand, and where the gradient goes")
    func handComputed() {
        let x = Tensor(shape: [1, 1, 4, 4], values: [
            1, 5, 2, 0,
            3, 4, 8, 6,
            9, 0, 1, 1,
            2, 7, 1, 3,
        ], requiresGrad: true)
        let y = Tensor.maxPool2d(x, kernelSize: 2)
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.scalars == [5, 8, 9, 3])
        y.backward(gradient: Tensor(shape: [1, 1, 2, 2], values: [10, 20, 30, 40]))
        #expect(x.grad?.scalars == [
            0, 10, 0, 0,
            0, 0, 20, 0,
            30, 0, 0, 0,
            0, 0, 0, 40,
        ])
    }

    @Test("Overlapping windows (3x3, stride 2) that share their maximum add its gradients")
    func overlappingWindowsAccumulate() {
        var values = (0..<25).map(Float.init)
        values[12] = 100  // the centre is in all four windows
        let x = Tensor(shape: [1, 1, 5, 5], values: values, requiresGrad: true)
        let y = Tensor.maxPool2d(x, kernelSize: 3, stride: 2)
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.scalars == [100, 100, 100, 100])
        y.backward(gradient: Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4]))
        var expected = [Float](repeating: 0, count: 25)
        expected[12] = 10
        #expect(x.grad?.scalars == expected)
    }

    @Test("Ties go to the first maximum in window order, as in PyTorch", arguments: [2, 3])
    func ties(kernel: Int) {
        let x = Tensor(shape: [1, 1, kernel, kernel], values: [Float](repeating: 7, count: kernel * kernel),
                       requiresGrad: true)
        Tensor.maxPool2d(x, kernelSize: kernel).backward(gradient: Tensor.ones([1, 1, 1, 1]))
        #expect(x.grad?.scalars == [1] + [Float](repeating: 0, count: kernel * kernel - 1))
    }

    @Test("A NaN in a window is its maximum", arguments: [2, 3])
    func nanPropagates(kernel: Int) {
        var values = [Float](repeating: 1, count: kernel * kernel)
        values[kernel * kernel - 1] = .nan
        let y = Tensor.maxPool2d(Tensor(shape: [1, 1, kernel, kernel], values: values), kernelSize: kernel)
        #expect(y.item().isNaN)
    }

    @Test("Sizes that do not divide drop the last rows and columns (floor)")
    func floorMode() {
        let x = Tensor(shape: [2, 3, 5, 7], values: (0..<210).map(Float.init))
        #expect(Tensor.maxPool2d(x, kernelSize: 2).shape == [2, 3, 2, 3])
        #expect(Tensor.maxPool2d(x, kernelSize: 3, stride: 1).shape == [2, 3, 3, 5])
    }

    @Test("Values and gradients match the definition on random data", arguments: [
        (2, 2), (3, 2), (2, 1), (3, 3), (4, 2),
    ])
    func matchesNaiveReference(kernel: Int, stride: Int) {
        let shape = [3, 4, 13, 11]
        let x = randomTensor(shape, seed: 21)
        x.requiresGrad = true
        let y = Tensor.maxPool2d(x, kernelSize: kernel, stride: stride)
        let upstream = randomTensor(y.shape, seed: 22)
        y.backward(gradient: upstream)
        let reference = naiveMaxPool(x.scalars, shape: shape, kernel: kernel, stride: stride, upstream: upstream.scalars)
        #expect(y.scalars == reference.y)
        expectClose(x.grad?.scalars ?? [], reference.dx, absolute: 1e-6, relative: 1e-6)
    }

    @Test("Gradients match finite differences", arguments: [(2, 2), (3, 2), (2, 1), (3, 3)])
    func finiteDifferences(kernel: Int, stride: Int) {
        let x = distinctValues([2, 2, 7, 6], seed: 23)
        expectGradientsMatch([x], epsilon: 1e-2) { t in Tensor.maxPool2d(t[0], kernelSize: kernel, stride: stride) }
    }
}
