import Testing
import TensorCore

// squeezed, unsqueezed and permuted: values by hand, gradients against
// finite differences (see FiniteDifference.swift).

private func iota(_ shape: [Int]) -> Tensor {
    Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map(Float.init))
}

@Test func squeezeRemovesOnlyASizeOneAxis() {
    let x = iota([2, 1, 3, 1])
    #expect(x.squeezed(axis: 1).shape == [2, 3, 1])
    #expect(x.squeezed(axis: -1).shape == [2, 1, 3])
    // PyTorch: squeezing a dimension that is not 1 leaves the shape alone.
    #expect(x.squeezed(axis: 0).shape == [2, 1, 3, 1])
    #expect(x.squeezed().shape == [2, 3])
    #expect(Tensor.zeros([1, 1]).squeezed().shape == [])
    #expect(x.squeezed(axis: 1).scalars == x.scalars)
    #expect(x.squeezed(axis: 1).data == x.data)  // shares memory
}

@Test func unsqueezeInsertsAnAxisAnywhere() {
    let x = iota([2, 3])
    #expect(x.unsqueezed(axis: 0).shape == [1, 2, 3])
    #expect(x.unsqueezed(axis: 1).shape == [2, 1, 3])
    #expect(x.unsqueezed(axis: 2).shape == [2, 3, 1])
    #expect(x.unsqueezed(axis: -1).shape == [2, 3, 1])
    #expect(x.unsqueezed(axis: -3).shape == [1, 2, 3])
    #expect(Tensor(scalar: 5).unsqueezed(axis: 0).shape == [1])
    #expect(x.unsqueezed(axis: 1).scalars == x.scalars)
}

@Test func squeezeAndUnsqueezeGradients() {
    let x = randomTensor([2, 1, 3], seed: 300)
    expectGradientsMatch([x]) { $0[0].squeezed(axis: 1) * $0[0].squeezed(axis: 1) }
    expectGradientsMatch([x]) { $0[0].unsqueezed(axis: -1).pow(2) }
    expectGradientsMatch([x]) { $0[0].squeezed().exp() }
}

@Test func permuteMatchesTheDefinition() {
    let x = iota([2, 3, 4])
    let y = x.permuted([2, 0, 1])
    #expect(y.shape == [4, 2, 3])
    // y[k, i, j] = x[i, j, k] = 12 i + 4 j + k
    var expected: [Float] = []
    for k in 0..<4 { for i in 0..<2 { for j in 0..<3 { expected.append(Float(12 * i + 4 * j + k)) } } }
    #expect(y.scalars == expected)
    // Negative entries count from the end; the identity changes nothing.
    #expect(x.permuted([-1, 0, 1]).scalars == expected)
    #expect(x.permuted([0, 1, 2]).scalars == x.scalars)
    // A swap of two axes is transposed.
    #expect(x.permuted([0, 2, 1]).scalars == x.transposed(1, 2).scalars)
    // A permutation then its inverse is the identity.
    #expect(y.permuted([1, 2, 0]).scalars == x.scalars)
    // Size-1 axes.
    let z = iota([1, 3, 1, 2])
    #expect(z.permuted([3, 2, 1, 0]).shape == [2, 1, 3, 1])
    #expect(z.permuted([3, 2, 1, 0]).scalars == [0, 2, 4, 1, 3, 5])
}

@Test("permute gradients (backward is the inverse permutation)",
      arguments: [[2, 0, 1], [1, 2, 0], [0, 2, 1], [-1, -2, -3], [0, 1, 2]])
func permuteGradients(dims: [Int]) {
    let x = randomTensor([2, 3, 4], seed: 301)
    expectGradientsMatch([x]) { $0[0].permuted(dims) }
    // Used twice, through different permutations.
    expectGradientsMatch([x]) { $0[0].permuted(dims) * $0[0].permuted(dims).pow(2) }
}

@Test func permuteGradientOfA4DTensor() {
    let x = randomTensor([2, 1, 3, 2], seed: 302)
    expectGradientsMatch([x]) { $0[0].permuted([0, 2, 3, 1]) }
}
