import Testing
import TensorCore

// Tensor.dropout: counter-based masks, inverted scaling, backward through the same mask.

private func streams(_ samples: [Int], layer: UInt64 = 0) -> [CounterRandom] {
    samples.map { CounterRandom(42, 0, UInt64($0), layer) }
}

@Test func dropoutZeroesAboutPAndScalesSurvivors() {
    let x = Tensor.ones([64, 100])
    let y = Tensor.dropout(x, probability: 0.3, rowStreams: streams(Array(0..<64)))
    let values = y.scalars
    let zeros = values.filter { $0 == 0 }.count
    #expect(abs(Double(zeros) / 6400 - 0.3) < 0.02)  // sd ~ 0.006
    #expect(values.allSatisfy { $0 == 0 || $0 == 1 / (1 - Float(0.3)) })
}

@Test func dropoutMaskOfARowDependsOnlyOnItsStream() {
    let x = randomTensor([8, 3, 4], seed: 1)
    let y = Tensor.dropout(x, probability: 0.5, rowStreams: streams([3, 9, 4, 1, 0, 17, 2, 5]))
    let row = Tensor(shape: [1, 3, 4], values: Array(x.scalars[60..<72]))
    let alone = Tensor.dropout(row, probability: 0.5, rowStreams: streams([17]))
    #expect(alone.scalars == Array(y.scalars[60..<72]))
    // Another layer index gives another mask.
    let other = Tensor.dropout(row, probability: 0.5, rowStreams: streams([17], layer: 1))
    #expect(other.scalars != alone.scalars)
}

@Test func dropoutWithProbabilityZeroIsTheIdentity() {
    let x = randomTensor([4, 5], seed: 2)
    #expect(Tensor.dropout(x, probability: 0, rowStreams: streams(Array(0..<4))).scalars == x.scalars)
}

@Test func dropoutGradientMatchesFiniteDifferences() {
    // The mask is a pure function of the streams, so every evaluation sees the same one.
    let x = randomTensor([5, 6], seed: 3)
    expectGradientsMatch([x]) { Tensor.dropout($0[0], probability: 0.4, rowStreams: streams(Array(10..<15))) }
}

@Test func dropoutBackwardUsesTheForwardMask() {
    let x = randomTensor([6, 7], seed: 4)
    x.requiresGrad = true
    let y = Tensor.dropout(x, probability: 0.5, rowStreams: streams(Array(0..<6)))
    y.sum().backward()
    // dy/dx is the mask: 0 where dropped, 2 where kept.
    let expected = zip(y.scalars, x.scalars).map { y, x in y == 0 && x != 0 ? Float(0) : 2 }
    #expect(x.grad!.scalars == expected)
}
