import Testing
import TensorCore

// embedding: rows picked by hand; the backward scatter-adds, including an
// index used twice; gradients against finite differences.

@Test func embeddingPicksRowsForAnyIndexShape() {
    let weight = Tensor(shape: [4, 2], values: [0, 1, 10, 11, 20, 21, 30, 31])
    let y = Tensor.embedding(Tensor(shape: [2, 2], values: [3, 0, 1, 1]), weight: weight)
    #expect(y.shape == [2, 2, 2])
    #expect(y.scalars == [30, 31, 0, 1, 10, 11, 10, 11])
    #expect(Tensor.embedding(Tensor(scalar: 2), weight: weight).shape == [2])
    #expect(Tensor.embedding(Tensor([2]), weight: weight).scalars == [20, 21])
}

@Test func embeddingBackwardScatterAddsIntoRows() {
    let weight = Tensor.zeros([3, 2], requiresGrad: true)
    let y = Tensor.embedding(Tensor([2, 0, 2]), weight: weight)
    y.backward(gradient: Tensor(shape: [3, 2], values: [1, 2, 3, 4, 5, 6]))
    // Row 2 is used twice: 1 + 5, 2 + 6. Row 1 is not used.
    #expect(weight.grad!.scalars == [3, 4, 0, 0, 6, 8])
}

@Test func embeddingGradientsMatchFiniteDifferences() {
    let weight = randomTensor([5, 3], seed: 350)
    let indices = Tensor(shape: [2, 3], values: [4, 0, 4, 1, 2, 0])
    expectGradientsMatch([weight]) { Tensor.embedding(indices, weight: $0[0]).pow(2) }
}
