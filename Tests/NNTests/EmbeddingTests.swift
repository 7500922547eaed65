import TensorExpectations
import Testing
import NN
import TensorCore

@Test func embeddingHasPyTorchsParameterAndInitialisation() {
    var generator = RandomGenerator(seed: 60)
    let embedding = Embedding(100, 50, generator: &generator)
    #expect(embedding.namedParameters().map(\.name) == ["weight"])
    #expect(embedding.weight.shape == [100, 50])
    // N(0, 1) like PyTorch: 5000 draws.
    let values = embedding.weight.scalars.map(Double.init)
    let mean = values.reduce(0, +) / Double(values.count)
    let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
    #expect(abs(mean) < 0.05)
    #expect(abs(std - 1) < 0.05)
}

@Test func embeddingLooksUpRowsAndScatterAddsGradients() {
    var generator = RandomGenerator(seed: 61)
    let embedding = Embedding(4, 3, generator: &generator)
    let indices = Tensor(shape: [2, 3], values: [0, 3, 3, 1, 0, 2])
    let y = embedding(indices)
    #expect(y.shape == [2, 3, 3])
    let w = embedding.weight.scalars
    let expected = indices.scalars.flatMap { i in w[(Int(i) * 3)..<(Int(i) * 3 + 3)] }
    #expect(y.scalars == Array(expected))
    expectGradientsMatch([embedding.weight]) { embedding(indices).pow(2) }
}

@Test func embeddingStateDictLoadsUnderTorchsName() throws {
    var generator = RandomGenerator(seed: 62)
    let source = Embedding(5, 2, generator: &generator), target = Embedding(5, 2, generator: &generator)
    try target.loadStateDict(Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.name, $0.tensor) }))
    #expect(target.weight.scalars == source.weight.scalars)
}
