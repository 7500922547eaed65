import NN
import TensorExpectations
import Testing
import TensorCore

// ParameterSet: every parameter a view into one flat value buffer and one flat gradient buffer.

private func makeModel(seed: UInt64) -> Sequential {
    var generator = RandomGenerator(seed: seed)
    return Sequential(Linear(3, 5, generator: &generator), Tanh(), Linear(5, 2, generator: &generator))
}

@Test func packsParametersContiguouslyInOrder() {
    let model = makeModel(seed: 60)
    let before = model.parameters().map(\.scalars)
    let set = ParameterSet(model)

    #expect(set.names == ["0.weight", "0.bias", "2.weight", "2.bias"])
    #expect(set.offsets == [0, 15, 20, 30])
    #expect(set.count == model.parameterCount)
    #expect(set.count == 32)
    for (i, t) in set.tensors.enumerated() {
        #expect(t === model.parameters()[i])
        #expect(t.storage === set.values)
        #expect(t.data == set.values.base + set.offsets[i])
        #expect(set.range(of: i) == set.offsets[i]..<set.offsets[i] + t.count)
    }
    // Values preserved, and the flat buffer is exactly their concatenation.
    #expect(model.parameters().map(\.scalars) == before)
    #expect(Array(set.values.buffer) == before.flatMap { $0 })
    #expect(set.index(of: "2.weight") == 2)
    #expect(set.index(of: "nope") == nil)
}

@Test func flatBufferAndViewsShareMemory() {
    let model = makeModel(seed: 61)
    let set = ParameterSet(model)
    set.values.base[set.offsets[3] + 1] = 42
    #expect(model.parameters()[3].scalars[1] == 42)
    model.parameters()[0].data[0] = -7
    #expect(set.values.base[0] == -7)
}

@Test func gradientsLandInTheFlatGradientBuffer() {
    let packed = makeModel(seed: 62)
    let reference = makeModel(seed: 62)  // same values, not packed
    let set = ParameterSet(packed)
    let x = randomTensor([4, 3], seed: 63)

    // Packing does not change the function; by construction: the same shapes to the same kernels.
    #expect(packed(x).scalars == reference(x).scalars)
    packed(x).pow(2).sum().backward()
    reference(x).pow(2).sum().backward()

    let expected = reference.parameters().flatMap { $0.grad!.scalars }
    #expect(Array(set.gradients.buffer) == expected)
    for (i, t) in set.tensors.enumerated() {
        #expect(t.grad?.data == set.gradients.base + set.offsets[i])
    }
    #expect(expected.contains { $0 != 0 })

    // Gradients accumulate in place until zeroed, and zeroing keeps the views.
    packed(x).pow(2).sum().backward()
    // (sgemm adds into the existing gradient with its own rounding, hence not ==)
    expectClose(Array(set.gradients.buffer), expected.map { $0 + $0 }, relative: 1e-6)
    set.zeroGrad()
    #expect(set.gradients.buffer.allSatisfy { $0 == 0 })
    packed(x).pow(2).sum().backward()
    #expect(Array(set.gradients.buffer) == expected)
}

@Test func tiedParameterIsPackedOnceAndGetsBothGradients() {
    var generator = RandomGenerator(seed: 64)
    let model = TiedPair(generator: &generator)
    let set = ParameterSet(model)
    #expect(set.names == ["scale", "first.weight", "first.bias"])
    #expect(set.count == 15)
    #expect(model.second.weight.data == set.values.base + set.offsets[1])

    // The shared weight's gradient is the sum over both uses: compare with an untied copy.
    let x = randomTensor([2, 3], seed: 65)
    model(x).sum().backward()
    let w1 = model.first.weight.copy(), w2 = model.first.weight.copy()
    w1.requiresGrad = true
    w2.requiresGrad = true
    let h = Tensor.linear(x, weight: w1, bias: model.first.bias!.detached())
    (Tensor.linear(h, weight: w2, bias: nil) * model.scale.detached()).sum().backward()
    let both = zip(w1.grad!.scalars, w2.grad!.scalars).map { $0 + $1 }
    expectClose(Array(set.gradients.buffer[set.range(of: 1)]), both)
}
