import Testing
import TensorCore

// layerNorm: values against a Double reference (biased variance, as
// PyTorch), gradients of input, weight and bias against finite differences.

/// F.layer_norm by its definition, in Double.
private func referenceLayerNorm(_ x: Tensor, n: Int, weight: Tensor?, bias: Tensor?, eps: Double) -> [Double] {
    let v = x.scalars.map(Double.init)
    var out: [Double] = []
    for r in 0..<(x.count / n) {
        let row = v[(r * n)..<((r + 1) * n)]
        let mean = row.reduce(0, +) / Double(n)
        let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        for (i, e) in row.enumerated() {
            let w = weight.map { Double($0.data[i]) } ?? 1, b = bias.map { Double($0.data[i]) } ?? 0
            out.append((e - mean) / (variance + eps).squareRoot() * w + b)
        }
    }
    return out
}

@Test func layerNormOfOneRowByHand() {
    // mean 2.5, biased variance 1.25.
    let x = Tensor(shape: [1, 4], values: [1, 2, 3, 4])
    let y = Tensor.layerNorm(x, normalizedShape: [4], eps: 1e-12)
    let s = 1.25.squareRoot()
    expectClose(y.scalars, [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s], absolute: 1e-6, relative: 1e-5)
}

@Test("layerNorm values match the definition",
      arguments: [([4, 3, 5], [5]), ([4, 3, 5], [3, 5]), ([2, 3, 5], [2, 3, 5]), ([5], [5]), ([3, 1], [1])])
func layerNormValues(shape: [Int], normalized: [Int]) {
    let x = randomTensor(shape, low: -2, high: 3, seed: 340)
    let weight = randomTensor(normalized, seed: 341), bias = randomTensor(normalized, seed: 342)
    let n = normalized.reduce(1, *)
    expectClose(Tensor.layerNorm(x, normalizedShape: normalized, weight: weight, bias: bias).scalars,
                referenceLayerNorm(x, n: n, weight: weight, bias: bias, eps: 1e-5), absolute: 1e-5, relative: 1e-4)
    expectClose(Tensor.layerNorm(x, normalizedShape: normalized).scalars,
                referenceLayerNorm(x, n: n, weight: nil, bias: nil, eps: 1e-5), absolute: 1e-5, relative: 1e-4)
}

@Test func layerNormOfAConstantRowIsTheBias() {
    let x = Tensor.full([2, 3], 7)
    let bias = Tensor([1, 2, 3])
    #expect(Tensor.layerNorm(x, normalizedShape: [3], bias: bias).scalars == [1, 2, 3, 1, 2, 3])
}

@Test("layerNorm gradients of input, weight and bias", arguments: [[5], [3, 5]])
func layerNormGradients(normalized: [Int]) {
    let x = randomTensor([2, 3, 5], low: -2, high: 2, seed: 343)
    let weight = randomTensor(normalized, low: 0.5, high: 1.5, seed: 344)
    let bias = randomTensor(normalized, seed: 345)
    expectGradientsMatch([x, weight, bias], epsilon: 1e-2, tolerance: 5e-3) {
        Tensor.layerNorm($0[0], normalizedShape: normalized, weight: $0[1], bias: $0[2])
    }
    expectGradientsMatch([x], epsilon: 1e-2, tolerance: 5e-3) {
        Tensor.layerNorm($0[0], normalizedShape: normalized)
    }
}
