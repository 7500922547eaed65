import Testing
import TensorCore

/// A convolution's sizes, for parameterised tests.
struct ConvolutionCase: Sendable, CustomTestStringConvertible {
    var batch = 2
    var channels: Int
    var height: Int
    var width: Int
    var outChannels: Int
    var kernel: Int
    var stride = 1
    var padding = 0
    var testDescription: String {
        "\(batch)x\(channels)x\(height)x\(width) -> \(outChannels), kernel \(kernel), stride \(stride), padding \(padding)"
    }
    var inputShape: [Int] { [batch, channels, height, width] }
    var weightShape: [Int] { [outChannels, channels, kernel, kernel] }
}

/// The definition, in Double, one output element at a time: y, and the
/// gradients of sum(y * upstream) with respect to x, W and b.
struct NaiveConvolution {
    var y: [Double] = []
    var dx: [Double] = []
    var dw: [Double] = []
    var db: [Double] = []

    init(_ c: ConvolutionCase, x: [Float], w: [Float], b: [Float], upstream: [Float]? = nil) {
        let oh = (c.height + 2 * c.padding - c.kernel) / c.stride + 1
        let ow = (c.width + 2 * c.padding - c.kernel) / c.stride + 1
        y = [Double](repeating: 0, count: c.batch * c.outChannels * oh * ow)
        dx = [Double](repeating: 0, count: x.count)
        dw = [Double](repeating: 0, count: w.count)
        db = [Double](repeating: 0, count: b.count)
        for n in 0..<c.batch {
            for o in 0..<c.outChannels {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let yi = ((n * c.outChannels + o) * oh + oy) * ow + ox
                        let g = Double(upstream?[yi] ?? 0)
                        var sum = Double(b[o])
                        db[o] += g
                        for ch in 0..<c.channels {
                            for ki in 0..<c.kernel {
                                for kj in 0..<c.kernel {
                                    let iy = oy * c.stride + ki - c.padding, ix = ox * c.stride + kj - c.padding
                                    guard iy >= 0 && iy < c.height && ix >= 0 && ix < c.width else { continue }
                                    let xi = ((n * c.channels + ch) * c.height + iy) * c.width + ix
                                    let wi = ((o * c.channels + ch) * c.kernel + ki) * c.kernel + kj
                                    sum += Double(x[xi]) * Double(w[wi])
                                    dx[xi] += g * Double(w[wi])
                                    dw[wi] += g * Double(x[xi])
                                }
                            }
                        }
                        y[yi] = sum
                    }
                }
            }
        }
    }
}

@Suite("Conv2d op")
struct ConvolutionTests {
    @Test("A 2x2 kernel over a 3x3 image, by hand")
    func handComputedValid() {
        let x = Tensor(shape: [1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let w = Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
        let y = Tensor.conv2d(x, weight: w, bias: Tensor([0.5]))
        #expect(y.shape == [1, 1, 2, 2])
        // 1*1 + 2*2 + 4*3 + 5*4 = 37, and so on, plus the bias.
        #expect(y.scalars == [37.5, 47.5, 67.5, 77.5])
    }

    @Test("Padding 1: window sums of a 2x2 image in a zero border")
    func handComputedPadding() {
        let x = Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
        let y = Tensor.conv2d(x, weight: Tensor.ones([1, 1, 2, 2]), bias: nil, padding: 1)
        #expect(y.shape == [1, 1, 3, 3])
        #expect(y.scalars == [1, 3, 2, 4, 10, 6, 3, 7, 4])
    }

    @Test("Stride 2: block sums of a 4x4 image")
    func handComputedStride() {
        let x = Tensor(shape: [1, 1, 4, 4], values: (1...16).map(Float.init))
        let y = Tensor.conv2d(x, weight: Tensor.ones([1, 1, 2, 2]), bias: nil, stride: 2)
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.scalars == [14, 22, 46, 54])
    }

    @Test("Two channels in, two out: each output sums over both input channels")
    func handComputedChannels() {
        // Channel 0 is all 1, channel 1 all 2; a 1x1 kernel mixes them.
        let x = Tensor(shape: [1, 2, 2, 2], values: [1, 1, 1, 1, 2, 2, 2, 2])
        let w = Tensor(shape: [2, 2, 1, 1], values: [1, 10, -1, 0.5])
        let y = Tensor.conv2d(x, weight: w, bias: Tensor([0, 100]))
        #expect(y.scalars == [21, 21, 21, 21, 100, 100, 100, 100])
    }

    @Test("Gradients by hand: dW sums input windows, db sums dy, dx spreads W")
    func handComputedGradients() {
        let x = Tensor(shape: [1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9], requiresGrad: true)
        let w = Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4], requiresGrad: true)
        let b = Tensor([0], requiresGrad: true)
        Tensor.conv2d(x, weight: w, bias: b).backward(gradient: Tensor.ones([1, 1, 2, 2]))
        // dW[ki, kj] = sum of the four windows' elements at (ki, kj).
        let windowSums: [Float] = [1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9]
        #expect(w.grad?.scalars == windowSums)
        #expect(b.grad?.scalars == [4])
        // Each pixel collects the kernel weights of the windows covering it.
        #expect(x.grad?.scalars == [1, 3, 2, 4, 10, 6, 3, 7, 4])
    }

    static let cases: [ConvolutionCase] = [
        ConvolutionCase(channels: 1, height: 28, width: 28, outChannels: 8, kernel: 5),         // cnn's conv1
        ConvolutionCase(channels: 8, height: 12, width: 12, outChannels: 16, kernel: 5),        // cnn's conv2
        ConvolutionCase(channels: 3, height: 32, width: 32, outChannels: 6, kernel: 5),         // lenet's conv1: 28 = 3*8 + 4
        ConvolutionCase(channels: 6, height: 14, width: 14, outChannels: 16, kernel: 5),        // lenet's conv2: 10 wide
        ConvolutionCase(channels: 2, height: 9, width: 7, outChannels: 13, kernel: 3),          // 8+4+1 channels, 5 wide
        ConvolutionCase(channels: 3, height: 10, width: 19, outChannels: 3, kernel: 3, padding: 1),
        ConvolutionCase(channels: 2, height: 11, width: 13, outChannels: 5, kernel: 5, padding: 2),
        ConvolutionCase(channels: 4, height: 6, width: 12, outChannels: 9, kernel: 2),          // a kernel width of 2
        ConvolutionCase(channels: 3, height: 5, width: 5, outChannels: 2, kernel: 1),
        ConvolutionCase(channels: 3, height: 11, width: 12, outChannels: 4, kernel: 3, stride: 2),
        ConvolutionCase(channels: 2, height: 9, width: 10, outChannels: 3, kernel: 3, stride: 2, padding: 1),
        ConvolutionCase(channels: 2, height: 7, width: 8, outChannels: 3, kernel: 4, stride: 3, padding: 2),
        // Outputs wide enough for the vector loops at strides 2 and 3, and a
        // 1x1 kernel at stride 2 (three of its four stride phases unread).
        ConvolutionCase(channels: 4, height: 30, width: 29, outChannels: 24, kernel: 3, stride: 2),
        ConvolutionCase(channels: 8, height: 20, width: 23, outChannels: 16, kernel: 5, stride: 3, padding: 2),
        ConvolutionCase(channels: 5, height: 16, width: 17, outChannels: 9, kernel: 1, stride: 2),
        // Winograd's F(2x2, 3x3) (3x3, stride 1, 16 channels or more on both
        // sides), for y, dW and dx: rows of whole vectors of tiles; odd sizes with
        // an overlapping last vector and a last tile half outside; padding 2
        // (its dx at padding 0) and 0 (dx at 2) on rows of under eight tiles;
        // one output; and blocks of tile rows that cross from one sample
        // into the next (64 channels on 28x28: four tile rows per block, 14
        // per sample).
        ConvolutionCase(channels: 16, height: 28, width: 28, outChannels: 32, kernel: 3, padding: 1),
        ConvolutionCase(channels: 32, height: 13, width: 17, outChannels: 16, kernel: 3, padding: 1),
        ConvolutionCase(batch: 3, channels: 24, height: 9, width: 5, outChannels: 20, kernel: 3, padding: 2),
        ConvolutionCase(channels: 20, height: 8, width: 11, outChannels: 17, kernel: 3),
        ConvolutionCase(channels: 16, height: 3, width: 3, outChannels: 16, kernel: 3),
        ConvolutionCase(batch: 3, channels: 64, height: 28, width: 28, outChannels: 64, kernel: 3, padding: 1),
    ]

    @Test("Values and all three gradients match the definition on random data", arguments: cases)
    func matchesNaiveReference(_ c: ConvolutionCase) {
        let x = randomTensor(c.inputShape, seed: 1)
        let w = randomTensor(c.weightShape, seed: 2)
        let b = randomTensor([c.outChannels], seed: 3)
        for t in [x, w, b] { t.requiresGrad = true }
        let y = Tensor.conv2d(x, weight: w, bias: b, stride: c.stride, padding: c.padding)
        let upstream = randomTensor(y.shape, seed: 4)
        y.backward(gradient: upstream)
        let reference = NaiveConvolution(c, x: x.scalars, w: w.scalars, b: b.scalars, upstream: upstream.scalars)
        let oh = (c.height + 2 * c.padding - c.kernel) / c.stride + 1
        let ow = (c.width + 2 * c.padding - c.kernel) / c.stride + 1
        #expect(y.shape == [c.batch, c.outChannels, oh, ow])
        expectClose(y.scalars, reference.y, absolute: 1e-4, relative: 1e-4, "y")
        expectClose(w.grad?.scalars ?? [], reference.dw, absolute: 1e-3, relative: 1e-4, "dW")
        expectClose(b.grad?.scalars ?? [], reference.db, absolute: 1e-3, relative: 1e-4, "db")
        expectClose(x.grad?.scalars ?? [], reference.dx, absolute: 1e-4, relative: 1e-4, "dx")
    }

    /// Kernel sizes 1, 3, 5, 7 by strides 1, 2 by paddings 0, 1, 2, with 1,
    /// 3, 32 or 64 channels in and out and odd image sizes: every route
    /// conv2d takes (the direct kernels, their scalar loops for outputs under
    /// eight wide, sgemm and col2im for input gradients mostly over padding).
    static let sweep: [ConvolutionCase] = {
        let channels = [1, 3, 32, 64]
        var cases: [ConvolutionCase] = []
        var i = 0
        for kernel in [1, 3, 5, 7] {
            for stride in [1, 2] {
                for padding in [0, 1, 2] {
                    let size = kernel + 2 + 2 * (i % 5)  // 3 to 17, odd and even
                    cases.append(ConvolutionCase(batch: 2, channels: channels[i % 4], height: size, width: size + 3,
                                                 outChannels: channels[(i + 1) % 4], kernel: kernel, stride: stride,
                                                 padding: padding))
                    i += 1
                }
            }
        }
        return cases + [ConvolutionCase(batch: 2, channels: 3, height: 3, width: 3, outChannels: 5, kernel: 3)]  // one output
    }()

    @Test("Every kernel size, stride and padding matches the definition", arguments: sweep)
    func sweepMatchesNaiveReference(_ c: ConvolutionCase) {
        matchesNaiveReference(c)
    }

    @Test("Gradients match finite differences", arguments: [
        ConvolutionCase(channels: 2, height: 5, width: 6, outChannels: 3, kernel: 3),
        ConvolutionCase(channels: 2, height: 6, width: 6, outChannels: 2, kernel: 3, stride: 2),
        ConvolutionCase(channels: 1, height: 5, width: 5, outChannels: 2, kernel: 3, padding: 1),
        ConvolutionCase(channels: 2, height: 5, width: 4, outChannels: 2, kernel: 3, padding: 2),
        ConvolutionCase(channels: 2, height: 7, width: 6, outChannels: 2, kernel: 3, stride: 2, padding: 1),
        ConvolutionCase(channels: 1, height: 6, width: 7, outChannels: 2, kernel: 2, stride: 2, padding: 2),
        ConvolutionCase(channels: 1, height: 10, width: 12, outChannels: 3, kernel: 5),
        ConvolutionCase(batch: 1, channels: 16, height: 5, width: 4, outChannels: 16, kernel: 3, padding: 1),  // Winograd
    ])
    func finiteDifferences(_ c: ConvolutionCase) {
        let x = randomTensor(c.inputShape, seed: 5)
        let w = randomTensor(c.weightShape, seed: 6)
        let b = randomTensor([c.outChannels], seed: 7)
        expectGradientsMatch([x, w, b]) { t in
            Tensor.conv2d(t[0], weight: t[1], bias: t[2], stride: c.stride, padding: c.padding)
        }
    }

    @Test("Gradients add up when the input and the weight are used twice")
    func accumulates() {
        let x = randomTensor([1, 2, 6, 6], seed: 8)
        let w = randomTensor([3, 2, 3, 3], seed: 9)
        expectGradientsMatch([x, w]) { t in
            Tensor.conv2d(t[0], weight: t[1], bias: nil) + Tensor.conv2d(t[0], weight: t[1], bias: nil, padding: 0)
        }
    }

    @Test("Without gradients nothing is recorded, and the result is the same")
    func noGrad() {
        let x = randomTensor([2, 3, 8, 8], seed: 10)
        let w = randomTensor([4, 3, 3, 3], seed: 11)
        w.requiresGrad = true
        let recorded = Tensor.conv2d(x, weight: w, bias: nil)
        let plain = withNoGrad { Tensor.conv2d(x, weight: w, bias: nil) }
        #expect(recorded.requiresGrad && !recorded.isLeaf)
        #expect(!plain.requiresGrad && plain.isLeaf)
        #expect(recorded.scalars == plain.scalars)
    }
}
