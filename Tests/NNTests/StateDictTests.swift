import NN
import TensorExpectations
import Testing
import TensorCore

// stateDict / loadStateDict: round trip and PyTorch-style error reports.

private func makeModel(seed: UInt64) -> Sequential {
    var generator = RandomGenerator(seed: seed)
    return Sequential(Linear(3, 4, generator: &generator), ReLU(), Linear(4, 2, generator: &generator))
}

private func values(_ model: any Module) -> [[Float]] { model.parameters().map(\.scalars) }

@Test func stateDictListsCopiesByName() {
    let model = makeModel(seed: 30)
    let state = model.stateDict()
    #expect(state.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
    #expect(state.map(\.tensor.scalars) == values(model))
    // Copies: changing the model afterwards does not change the state.
    let before = state[0].tensor.scalars
    model.parameters()[0].data[0] += 1
    #expect(state[0].tensor.scalars == before)
}

@Test func roundTripIntoAnotherModel() throws {
    let source = makeModel(seed: 31)
    let target = makeModel(seed: 32)
    #expect(values(source) != values(target))
    let report = try target.loadStateDict(Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.name, $0.tensor) }))
    #expect(report.isEmpty)
    #expect(values(target) == values(source))
    let x = Tensor(shape: [2, 3], values: [1, -2, 0.5, 3, 0, -1])
    #expect(target(x).scalars == source(x).scalars)  // by construction: equal values, the same calls
}

@Test func missingKeysThrowWhenStrict() throws {
    let source = makeModel(seed: 33)
    let target = makeModel(seed: 34)
    let original = values(target)
    var state = Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.name, $0.tensor) })
    state["2.bias"] = nil

    let error = #expect(throws: StateDictError.self) { try target.loadStateDict(state) }
    #expect(error?.missingKeys == ["2.bias"])
    #expect(error?.unexpectedKeys == [])
    #expect(error?.description.contains("missing keys: 2.bias") == true)
    #expect(values(target) == original)  // strict failure copies nothing

    let report = try target.loadStateDict(state, strict: false)
    #expect(report.missingKeys == ["2.bias"])
    #expect(!report.isEmpty)
    let loaded = values(target)
    #expect(Array(loaded[0..<3]) == Array(values(source)[0..<3]))
    #expect(loaded[3] == original[3])  // the missing one is left as it was
}

@Test func unexpectedKeysThrowWhenStrict() throws {
    let source = makeModel(seed: 35)
    let target = makeModel(seed: 36)
    var state = Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.name, $0.tensor) })
    state["4.weight"] = Tensor.zeros([1])
    state["extra"] = Tensor.zeros([2])

    let error = #expect(throws: StateDictError.self) { try target.loadStateDict(state) }
    #expect(error?.unexpectedKeys == ["4.weight", "extra"])
    #expect(error?.missingKeys == [])

    let report = try target.loadStateDict(state, strict: false)
    #expect(report.unexpectedKeys == ["4.weight", "extra"])
    #expect(values(target) == values(source))
}

@Test func shapeMismatchAlwaysThrowsAndCopiesNothing() {
    let source = makeModel(seed: 37)
    let target = makeModel(seed: 38)
    let original = values(target)
    var state = Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.name, $0.tensor) })
    state["0.weight"] = Tensor.zeros([3, 4])  // transposed shape

    for strict in [true, false] {
        let error = #expect(throws: StateDictError.self) { try target.loadStateDict(state, strict: strict) }
        #expect(error?.shapeMismatches.count == 1)
        #expect(error?.shapeMismatches.first?.name == "0.weight")
        #expect(error?.shapeMismatches.first?.expected == [4, 3])
        #expect(error?.shapeMismatches.first?.found == [3, 4])
        #expect(error?.description.contains("size mismatch for 0.weight") == true)
        #expect(values(target) == original)
    }
}

// Buffers: in the state dict (PyTorch's order), not among the parameters.

private func makeModelWithBuffers(seed: UInt64) -> Sequential {
    var generator = RandomGenerator(seed: seed)
    let model = Sequential(Linear(3, 4, generator: &generator), BatchNorm1d(4),
                           Sequential(Linear(4, 2, generator: &generator), BatchNorm1d(2)))
    _ = model(randomTensor([5, 3], seed: seed))  // training mode: the running statistics move
    return model
}

@Test func stateDictListsParametersThenBuffersThenChildren() {
    let model = makeModelWithBuffers(seed: 40)
    #expect(model.stateDict().map(\.name) == [
        "0.weight", "0.bias",
        "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
        "2.0.weight", "2.0.bias",
        "2.1.weight", "2.1.bias", "2.1.running_mean", "2.1.running_var", "2.1.num_batches_tracked",
    ])
    #expect(model.namedParameters().map(\.name) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "2.0.weight", "2.0.bias", "2.1.weight", "2.1.bias",
    ])
    #expect(model.namedBuffers().map(\.name) == [
        "1.running_mean", "1.running_var", "1.num_batches_tracked",
        "2.1.running_mean", "2.1.running_var", "2.1.num_batches_tracked",
    ])
    // The flat parameter buffer holds parameters only.
    let set = ParameterSet(model)
    #expect(set.names == model.namedParameters().map(\.name))
    #expect(set.count == 16 + 8 + 10 + 4)
}

@Test func buffersRoundTripAndAreCheckedLikeParameters() throws {
    let source = makeModelWithBuffers(seed: 41)
    let target = makeModelWithBuffers(seed: 42)
    var state = Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.name, $0.tensor) })
    try target.loadStateDict(state)
    #expect(target.stateDict().map(\.tensor.scalars) == source.stateDict().map(\.tensor.scalars))

    let before = target.stateDict().map(\.tensor.scalars)
    state["1.running_var"] = Tensor.ones([5])
    var error = #expect(throws: StateDictError.self) { try target.loadStateDict(state, strict: false) }
    #expect(error?.shapeMismatches.map(\.name) == ["1.running_var"])

    state["1.running_var"] = nil
    state["1.running_std"] = Tensor.ones([4])
    error = #expect(throws: StateDictError.self) { try target.loadStateDict(state) }
    #expect(error?.missingKeys == ["1.running_var"])
    #expect(error?.unexpectedKeys == ["1.running_std"])
    #expect(target.stateDict().map(\.tensor.scalars) == before)
}
