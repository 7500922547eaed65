import TensorExpectations
import Testing
import NN
import TensorCore

@Test func layerNormHasPyTorchsParametersAndInitialisation() {
    let norm = LayerNorm([3, 4])
    #expect(norm.namedParameters().map(\.name) == ["weight", "bias"])
    #expect(norm.weight!.scalars == [Float](repeating: 1, count: 12))
    #expect(norm.bias!.scalars == [Float](repeating: 0, count: 12))
    #expect(norm.weight!.shape == [3, 4])
    #expect(LayerNorm(8).weight!.shape == [8])
    #expect(LayerNorm(8, elementwiseAffine: false).namedParameters().isEmpty)
    #expect(LayerNorm(8, bias: false).namedParameters().map(\.name) == ["weight"])
    #expect(norm.namedBuffers().isEmpty)  // no running statistics
}

@Test func layerNormNormalisesEachRowWithTheBiasedVariance() {
    let norm = LayerNorm(4, eps: 1e-5)
    let x = randomTensor([3, 2, 4], low: -3, high: 5, seed: 63)
    let y = norm(x).scalars
    for r in 0..<6 {
        let row = x.scalars[(r * 4)..<(r * 4 + 4)].map(Double.init)
        let mean = row.reduce(0, +) / 4
        let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4  // biased
        let expected = row.map { Float(($0 - mean) / (variance + 1e-5).squareRoot()) }
        expectClose(Array(y[(r * 4)..<(r * 4 + 4)]), expected, absolute: 1e-5, relative: 1e-4)
    }
}

@Test func layerNormGradientsOfInputAndParameters() {
    let norm = LayerNorm([2, 3])
    var generator = RandomGenerator(seed: 64)
    for p in norm.parameters() { for i in 0..<p.count { p.data[i] = generator.uniform(0.5, 1.5) } }
    let x = randomTensor([4, 2, 3], low: -2, high: 2, seed: 65)
    expectGradientsMatch([x] + norm.parameters(), tolerance: 5e-3) { norm(x) }
}
