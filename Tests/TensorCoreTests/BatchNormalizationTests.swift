import Testing
import TensorCore

// Tensor.batchNorm against a Double reference and central differences.

/// The op recomputed in Double: y for `x` [N, C, P...] with the batch's
/// statistics (training) or the given mean and variance (eval), and the
/// batch mean, biased and unbiased variance per channel.
private func referenceBatchNorm(_ x: Tensor, weight: [Float], bias: [Float], eps: Double,
                                statistics: (mean: [Float], variance: [Float])? = nil)
    -> (y: [Double], mean: [Double], biased: [Double], unbiased: [Double]) {
    let (n, c) = (x.shape[0], x.shape[1])
    let p = x.count / (n * c)
    let v = x.scalars.map(Double.init)
    func index(_ i: Int, _ ch: Int, _ j: Int) -> Int { (i * c + ch) * p + j }
    var mean = [Double](repeating: 0, count: c), biased = mean, unbiased = mean
    var y = [Double](repeating: 0, count: x.count)
    let m = Double(n * p)
    for ch in 0..<c {
        var s = 0.0
        for i in 0..<n { for j in 0..<p { s += v[index(i, ch, j)] } }
        mean[ch] = s / m
        var d = 0.0
        for i in 0..<n { for j in 0..<p { d += (v[index(i, ch, j)] - mean[ch]) * (v[index(i, ch, j)] - mean[ch]) } }
        biased[ch] = d / m
        unbiased[ch] = d / (m - 1)
        let useMean = statistics.map { Double($0.mean[ch]) } ?? mean[ch]
        let useVar = statistics.map { Double($0.variance[ch]) } ?? biased[ch]
        for i in 0..<n {
            for j in 0..<p {
                let k = index(i, ch, j)
                y[k] = (v[k] - useMean) / (useVar + eps).squareRoot() * Double(weight[ch]) + Double(bias[ch])
            }
        }
    }
    return (y, mean, biased, unbiased)
}

@Test("batchNorm training forward and running statistics", arguments: [[6, 3], [4, 3, 2, 5]])
func batchNormTrainingMatchesReference(shape: [Int]) {
    let x = randomTensor(shape, low: -2, high: 3, seed: 10)
    let c = shape[1]
    let weight = randomTensor([c], low: 0.5, high: 1.5, seed: 11)
    let bias = randomTensor([c], seed: 12)
    let runningMean = randomTensor([c], seed: 13)
    let runningVar = randomTensor([c], low: 0.5, high: 2, seed: 14)
    let (rm0, rv0) = (runningMean.scalars, runningVar.scalars)
    let y = Tensor.batchNorm(x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                             training: true, momentum: 0.1, eps: 1e-5)
    let reference = referenceBatchNorm(x, weight: weight.scalars, bias: bias.scalars, eps: 1e-5)
    expectClose(y.scalars, reference.y, absolute: 1e-5, relative: 1e-5)
    expectClose(runningMean.scalars, (0..<c).map { 0.9 * Double(rm0[$0]) + 0.1 * reference.mean[$0] })
    expectClose(runningVar.scalars, (0..<c).map { 0.9 * Double(rv0[$0]) + 0.1 * reference.unbiased[$0] })
}

@Test("batchNorm eval forward uses the running statistics", arguments: [[6, 3], [4, 3, 2, 5]])
func batchNormEvalMatchesReference(shape: [Int]) {
    let x = randomTensor(shape, low: -2, high: 3, seed: 20)
    let c = shape[1]
    let weight = randomTensor([c], low: 0.5, high: 1.5, seed: 21)
    let bias = randomTensor([c], seed: 22)
    let runningMean = randomTensor([c], seed: 23)
    let runningVar = randomTensor([c], low: 0.5, high: 2, seed: 24)
    let (rm0, rv0) = (runningMean.scalars, runningVar.scalars)
    let y = Tensor.batchNorm(x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                             training: false, eps: 1e-3)
    let reference = referenceBatchNorm(x, weight: weight.scalars, bias: bias.scalars, eps: 1e-3,
                                       statistics: (rm0, rv0))
    expectClose(y.scalars, reference.y, absolute: 1e-5, relative: 1e-5)
    #expect(runningMean.scalars == rm0 && runningVar.scalars == rv0)  // eval updates nothing
}

@Test("batchNorm training gradients (input, weight, bias)", arguments: [[6, 3], [3, 2, 3, 2]])
func batchNormTrainingGradients(shape: [Int]) {
    let x = randomTensor(shape, low: -2, high: 2, seed: 30)
    let weight = randomTensor([shape[1]], low: 0.5, high: 1.5, seed: 31)
    let bias = randomTensor([shape[1]], seed: 32)
    expectGradientsMatch([x, weight, bias], epsilon: 1e-2, tolerance: 5e-3) {
        Tensor.batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true)
    }
    // Without the affine parameters too.
    expectGradientsMatch([x], epsilon: 1e-2, tolerance: 5e-3) {
        Tensor.batchNorm($0[0], runningMean: nil, runningVar: nil, training: true)
    }
}

@Test("batchNorm eval gradients (input, weight, bias)", arguments: [[6, 3], [3, 2, 3, 2]])
func batchNormEvalGradients(shape: [Int]) {
    let x = randomTensor(shape, low: -2, high: 2, seed: 40)
    let weight = randomTensor([shape[1]], low: 0.5, high: 1.5, seed: 41)
    let bias = randomTensor([shape[1]], seed: 42)
    let runningMean = randomTensor([shape[1]], seed: 43)
    let runningVar = randomTensor([shape[1]], low: 0.5, high: 2, seed: 44)
    expectGradientsMatch([x, weight, bias]) {
        Tensor.batchNorm($0[0], runningMean: runningMean, runningVar: runningVar, weight: $0[1], bias: $0[2])
    }
}

@Test func batchNormBackwardMatchesTheComposedOps() {
    // The fused rule against the same normalisation built from primitive ops
    // (x - mean) / sqrt(var + eps) * w + b over x [N, C].
    let x = randomTensor([5, 3], low: -2, high: 2, seed: 50)
    let weight = randomTensor([3], low: 0.5, high: 1.5, seed: 51)
    let bias = randomTensor([3], seed: 52)
    let g = randomTensor([5, 3], seed: 53)
    func gradients(_ f: (Tensor, Tensor, Tensor) -> Tensor) -> [[Float]] {
        let inputs = [x.copy(), weight.copy(), bias.copy()]
        for t in inputs { t.requiresGrad = true }
        f(inputs[0], inputs[1], inputs[2]).backward(gradient: g)
        return inputs.map { $0.grad!.scalars }
    }
    let fused = gradients { x, w, b in
        Tensor.batchNorm(x, runningMean: nil, runningVar: nil, weight: w, bias: b, training: true)
    }
    let composed = gradients { x, w, b in
        let centred = x - x.mean(axis: 0, keepDim: true)
        let variance = (centred * centred).mean(axis: 0, keepDim: true)
        return centred / (variance + 1e-5).pow(0.5) * w + b
    }
    for (f, c) in zip(fused, composed) { expectClose(f, c, absolute: 1e-5, relative: 1e-4) }
}

@Test func batchNormReducerSeesSumsAndCountThenGradientSums() {
    // A reducer that doubles everything stands for two ranks with identical
    // batches: the statistics, and so the output, stay those of one batch.
    let x = randomTensor([4, 2], seed: 60)
    var calls: [Int] = []
    let reducer: StatisticsReducer = { values in
        calls.append(values.count)
        for i in values.indices { values[i] *= 2 }
    }
    x.requiresGrad = true
    let y = Tensor.batchNorm(x, runningMean: nil, runningVar: nil, training: true, statisticsReducer: reducer)
    let plain = Tensor.batchNorm(x.detached(), runningMean: nil, runningVar: nil, training: true)
    expectClose(y.scalars, plain.scalars.map(Double.init), absolute: 1e-6)
    #expect(calls == [5])  // [sum x (2), sum x^2 (2), count]
    y.backward(gradient: randomTensor([4, 2], seed: 61))
    #expect(calls == [5, 4])  // [sum dy (2), sum dy xhat (2)]
}
