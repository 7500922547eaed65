import NN
import TensorExpectations
import Testing
import TensorCore

// Dropout: PyTorch semantics, masks keyed by (seed, epoch, sample, layer) from the forward context.

@Test func dropoutIsTheIdentityInEvalMode() {
    let layer = Dropout(0.5)
    #expect(layer.isTraining)  // training mode by default, as in PyTorch
    let x = randomTensor([4, 6], seed: 1)
    layer.eval()
    #expect(!layer.isTraining)
    #expect(layer(x).scalars == x.scalars)
    layer.train()
    #expect(layer(x).scalars != x.scalars)
}

@Test func dropoutZeroesAboutPAndScalesByOneOverOneMinusP() {
    let layer = Dropout(0.25)
    let y = ForwardContext(seed: 3, epoch: 1, sampleIndices: Array(100..<200)).run { layer(Tensor.ones([100, 50])) }
    let zeros = y.scalars.filter { $0 == 0 }.count
    #expect(abs(Double(zeros) / 5000 - 0.25) < 0.025)
    #expect(y.scalars.allSatisfy { $0 == 0 || $0 == 1 / Float(0.75) })
}

@Test func aSampleGetsTheSameMaskWhereverItIsInTheBatch() {
    let model = Sequential(Dropout(0.5), Dropout(0.3))
    let sample = randomTensor([1, 3, 4, 4], seed: 2)
    let alone = ForwardContext(seed: 9, epoch: 4, sampleIndices: [1234]).run { model(sample) }

    // The same sample as row 5 of a batch of 8, on "another rank".
    let batch = randomTensor([8, 3, 4, 4], seed: 3)
    for i in 0..<48 { batch.data[5 * 48 + i] = sample.data[i] }
    let indices = [7, 70, 700, 3, 30, 1234, 300, 5]
    let inBatch = ForwardContext(seed: 9, epoch: 4, sampleIndices: indices).run { model(batch) }
    #expect(Array(inBatch.scalars[(5 * 48)..<(6 * 48)]) == alone.scalars)
    #expect(alone.scalars.contains(0))

    // Another epoch or seed gives another mask.
    let nextEpoch = ForwardContext(seed: 9, epoch: 5, sampleIndices: [1234]).run { model(sample) }
    let otherSeed = ForwardContext(seed: 10, epoch: 4, sampleIndices: [1234]).run { model(sample) }
    #expect(nextEpoch.scalars != alone.scalars)
    #expect(otherSeed.scalars != alone.scalars)
}

@Test func layersOfOnePassGetTheirCallOrderAsLayerIndex() {
    // Two dropout layers in one pass draw different masks; a fresh context
    // (the next micro-batch, or a resumed run) starts the count again.
    let first = Dropout(0.5), second = Dropout(0.5)
    let x = Tensor.ones([2, 64])
    let context = ForwardContext(seed: 1, epoch: 0, sampleIndices: [0, 1])
    let (a, b) = context.run { (first(x), second(x)) }
    #expect(a.scalars != b.scalars)
    let again = ForwardContext(seed: 1, epoch: 0, sampleIndices: [0, 1]).run { first(x) }
    #expect(again.scalars == a.scalars)
    // The layer index is the call order, not the layer: the second layer
    // called first in a pass draws the first layer's mask.
    let swapped = ForwardContext(seed: 1, epoch: 0, sampleIndices: [0, 1]).run { second(x) }
    #expect(swapped.scalars == a.scalars)
}

@Test func withoutAContextEveryCallDrawsAFreshMask() {
    let layer = Dropout(0.5)
    let x = Tensor.ones([3, 64])
    #expect(layer(x).scalars != layer(x).scalars)
}

@Test func dropoutBackwardMultipliesByTheSameMask() {
    let layer = Dropout(0.5)
    let x = randomTensor([4, 8], seed: 5)
    x.requiresGrad = true
    let y = ForwardContext(seed: 0, epoch: 0, sampleIndices: [0, 1, 2, 3]).run { layer(x) }
    y.sum().backward()
    let mask = zip(y.scalars, x.scalars).map { $1 == 0 ? Float(0) : $0 / $1 }
    expectClose(x.grad!.scalars, mask)
    #expect(Set(x.grad!.scalars) == [0, 2])
}

@Test func dropoutHasNoParametersOrBuffers() {
    let layer = Dropout()
    #expect(layer.p == 0.5)
    #expect(layer.stateDict().isEmpty)
    #expect(layer.configurationDescription == "p=0.5")
}

@Test func dropoutProbabilityOneStops() async {
    await #expect(processExitsWith: .failure) { _ = Dropout(1) }
}
