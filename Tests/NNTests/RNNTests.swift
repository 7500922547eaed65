import Foundation
import TensorExpectations
import Testing
import NN
import TensorCore

/// h' = tanh(W_ih x + b_ih + W_hh h + b_hh) in Double, for one sample.
private func referenceStep(_ x: [Double], _ h: [Double], _ parameters: [Tensor]) -> [Double] {
    let (wih, whh) = (parameters[0], parameters[1])
    let (hidden, input) = (wih.shape[0], wih.shape[1])
    return (0..<hidden).map { i in
        var s = Double(parameters[2].data[i]) + Double(parameters[3].data[i])
        for j in 0..<input { s += Double(wih.data[i * input + j]) * x[j] }
        for j in 0..<hidden { s += Double(whh.data[i * hidden + j]) * h[j] }
        return tanh(s)
    }
}

@Test func rnnCellHasPyTorchsNamesShapesAndInitialisation() {
    var generator = RandomGenerator(seed: 70)
    let cell = RNNCell(3, 16, generator: &generator)
    #expect(cell.namedParameters().map(\.name) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
    #expect(cell.parameters().map(\.shape) == [[16, 3], [16, 16], [16], [16]])
    #expect(cell.parameters().allSatisfy { $0.scalars.allSatisfy { abs($0) <= 0.25 } })  // 1/sqrt(16)
    #expect(RNNCell(3, 4, bias: false, generator: &generator).namedParameters().map(\.name) == ["weight_ih", "weight_hh"])
}

@Test func rnnCellMatchesTheDoubleReferenceAndFiniteDifferences() {
    var generator = RandomGenerator(seed: 71)
    let cell = RNNCell(3, 4, generator: &generator)
    let x = randomTensor([2, 3], seed: 72), h = randomTensor([2, 4], seed: 73)
    let y = cell(x, hidden: h)
    #expect(y.shape == [2, 4])
    var expected: [Double] = []
    for b in 0..<2 {
        expected += referenceStep(x.scalars[(b * 3)..<(b * 3 + 3)].map(Double.init),
                                  h.scalars[(b * 4)..<(b * 4 + 4)].map(Double.init), cell.parameters())
    }
    expectClose(y.scalars, expected.map(Float.init), absolute: 1e-6, relative: 1e-5)
    #expect(cell(x).scalars == cell(x, hidden: .zeros([2, 4])).scalars)
    expectGradientsMatch([x, h] + cell.parameters()) { cell(x, hidden: h) }
}

@Test func rnnHasTorchNNRNNsParameterNames() {
    var generator = RandomGenerator(seed: 74)
    let rnn = RNN(3, 5, numLayers: 2, generator: &generator)
    #expect(rnn.namedParameters().map(\.name) == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
        "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
    ])
    #expect(rnn.parameters().map(\.shape) == [[5, 3], [5, 5], [5], [5], [5, 5], [5, 5], [5], [5]])
}

@Test func rnnOverASequenceMatchesTheDoubleReference() {
    var generator = RandomGenerator(seed: 75)
    let rnn = RNN(3, 4, numLayers: 2, generator: &generator)
    let (batch, time) = (2, 5)
    let x = randomTensor([batch, time, 3], seed: 76), h0 = randomTensor([2, batch, 4], seed: 77)
    let (output, hn) = rnn(x, hidden: h0)
    #expect(output.shape == [batch, time, 4])
    #expect(hn.shape == [2, batch, 4])
    let p = rnn.parameters()
    var expectedOutput = [Double](repeating: 0, count: batch * time * 4)
    var expectedFinal = [Double](repeating: 0, count: 2 * batch * 4)
    for b in 0..<batch {
        var sequence = (0..<time).map { t in x.scalars[((b * time + t) * 3)..<((b * time + t) * 3 + 3)].map(Double.init) }
        for layer in 0..<2 {
            var h = h0.scalars[((layer * batch + b) * 4)..<((layer * batch + b) * 4 + 4)].map(Double.init)
            sequence = sequence.map { xt in
                h = referenceStep(xt, h, Array(p[(layer * 4)..<(layer * 4 + 4)]))
                return h
            }
            for i in 0..<4 { expectedFinal[(layer * batch + b) * 4 + i] = h[i] }
        }
        for t in 0..<time { for i in 0..<4 { expectedOutput[(b * time + t) * 4 + i] = sequence[t][i] } }
    }
    expectClose(output.scalars, expectedOutput.map(Float.init), absolute: 1e-6, relative: 1e-5)
    expectClose(hn.scalars, expectedFinal.map(Float.init), absolute: 1e-6, relative: 1e-5)
    // The last output step is the last layer's final hidden state; rnn(x) starts from zeros.
    #expect(output.select(axis: 1, -1).scalars == hn.select(axis: 0, -1).scalars)
    #expect(rnn(x).scalars == rnn(x, hidden: .zeros([2, batch, 4])).output.scalars)
}

@Test func rnnGradientsThroughTimeMatchFiniteDifferences() {
    var generator = RandomGenerator(seed: 78)
    let rnn = RNN(2, 3, numLayers: 2, generator: &generator)
    let x = randomTensor([2, 4, 2], seed: 79), h0 = randomTensor([2, 2, 3], seed: 80)
    expectGradientsMatch([x, h0] + rnn.parameters()) {
        let (output, hn) = rnn(x, hidden: h0)
        return Tensor.concatenate([output.reshaped([-1]), hn.reshaped([-1])])
    }
}
