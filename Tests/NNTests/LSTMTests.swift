import Foundation
import TensorExpectations
import Testing
import NN
import TensorCore

/// PyTorch's LSTM equations in Double, for one sample, with the gates i, f,
/// g, o stacked in that order in `parameters` (weight_ih, weight_hh, then
/// bias_ih, bias_hh when present):
///
///     i = sigmoid(W_ii x + b_ii + W_hi h + b_hi), f and o likewise, g with tanh,
///     c' = f * c + i * g, h' = o * tanh(c').
private func referenceStep(_ x: [Double], _ h: [Double], _ c: [Double], _ parameters: [Tensor])
    -> (hidden: [Double], cell: [Double]) {
    let hidden = h.count
    /// Row `row` of W_ih x + b_ih + W_hh h + b_hh.
    func gate(_ row: Int) -> Double {
        var s = parameters.count == 4 ? Double(parameters[2].data[row]) + Double(parameters[3].data[row]) : 0
        for j in 0..<x.count { s += Double(parameters[0].data[row * x.count + j]) * x[j] }
        for j in 0..<hidden { s += Double(parameters[1].data[row * hidden + j]) * h[j] }
        return s
    }
    func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
    var nextHidden: [Double] = [], nextCell: [Double] = []
    for k in 0..<hidden {
        let i = sigmoid(gate(k)), f = sigmoid(gate(hidden + k))
        let g = tanh(gate(2 * hidden + k)), o = sigmoid(gate(3 * hidden + k))
        nextCell.append(f * c[k] + i * g)
        nextHidden.append(o * tanh(nextCell[k]))
    }
    return (nextHidden, nextCell)
}

@Test func lstmCellHasPyTorchsNamesShapesAndInitialisation() {
    var generator = RandomGenerator(seed: 110)
    let cell = LSTMCell(3, 16, generator: &generator)
    #expect(cell.namedParameters().map(\.name) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
    #expect(cell.parameters().map(\.shape) == [[64, 3], [64, 16], [64], [64]])
    // U(-1/sqrt(16), 1/sqrt(16)) = U(-0.25, 0.25): inside the bound, and reaching near it.
    #expect(cell.parameters().allSatisfy { $0.scalars.allSatisfy { abs($0) <= 0.25 } })
    #expect(cell.weightHH.scalars.map(abs).max()! > 0.24)
    #expect(LSTMCell(3, 4, bias: false, generator: &generator).namedParameters().map(\.name) == ["weight_ih", "weight_hh"])
    #expect(cell.configurationDescription == "3 -> 16")
}

@Test func lstmCellMatchesTheDoubleReferenceAndFiniteDifferences() {
    var generator = RandomGenerator(seed: 111)
    for bias in [true, false] {
        let cell = LSTMCell(3, 4, bias: bias, generator: &generator)
        let x = randomTensor([2, 3], seed: 112), h = randomTensor([2, 4], seed: 113), c = randomTensor([2, 4], seed: 114)
        let (h1, c1) = cell(x, state: (h, c))
        #expect(h1.shape == [2, 4] && c1.shape == [2, 4])
        var expectedHidden: [Double] = [], expectedCell: [Double] = []
        for b in 0..<2 {
            let next = referenceStep(x.scalars[(b * 3)..<(b * 3 + 3)].map(Double.init),
                                     h.scalars[(b * 4)..<(b * 4 + 4)].map(Double.init),
                                     c.scalars[(b * 4)..<(b * 4 + 4)].map(Double.init), cell.parameters())
            expectedHidden += next.hidden
            expectedCell += next.cell
        }
        expectClose(h1.scalars, expectedHidden.map(Float.init), absolute: 1e-6, relative: 1e-5)
        expectClose(c1.scalars, expectedCell.map(Float.init), absolute: 1e-6, relative: 1e-5)
        #expect(cell(x).scalars == cell(x, state: (.zeros([2, 4]), .zeros([2, 4]))).hidden.scalars)
        expectGradientsMatch([x, h, c] + cell.parameters()) {
            let (h1, c1) = cell(x, state: (h, c))
            return Tensor.concatenate([h1.reshaped([-1]), c1.reshaped([-1])])
        }
    }
}

@Test func lstmHasTorchNNLSTMsParameterNames() {
    var generator = RandomGenerator(seed: 115)
    let lstm = LSTM(3, 5, numLayers: 2, generator: &generator)
    #expect(lstm.namedParameters().map(\.name) == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
        "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
    ])
    #expect(lstm.parameters().map(\.shape) == [[20, 3], [20, 5], [20], [20], [20, 5], [20, 5], [20], [20]])
    let bound = 1 / Float(5).squareRoot()
    #expect(lstm.parameters().allSatisfy { $0.scalars.allSatisfy { abs($0) <= bound } })
    #expect(LSTM(3, 5, numLayers: 2, bias: false, generator: &generator).namedParameters().map(\.name) == [
        "weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1",
    ])
    #expect(lstm.configurationDescription == "3 -> 5, 2 layers")
}

@Test func lstmOverASequenceMatchesTheDoubleReference() {
    var generator = RandomGenerator(seed: 116)
    let lstm = LSTM(3, 4, numLayers: 2, generator: &generator)
    let (batch, time) = (2, 5)
    let x = randomTensor([batch, time, 3], seed: 117)
    let h0 = randomTensor([2, batch, 4], seed: 118), c0 = randomTensor([2, batch, 4], seed: 119)
    let (output, hn, cn) = lstm(x, state: (h0, c0))
    #expect(output.shape == [batch, time, 4])
    #expect(hn.shape == [2, batch, 4] && cn.shape == [2, batch, 4])
    let p = lstm.parameters()
    var expectedOutput = [Double](repeating: 0, count: batch * time * 4)
    var expectedHidden = [Double](repeating: 0, count: 2 * batch * 4)
    var expectedCell = [Double](repeating: 0, count: 2 * batch * 4)
    for b in 0..<batch {
        var sequence = (0..<time).map { t in x.scalars[((b * time + t) * 3)..<((b * time + t) * 3 + 3)].map(Double.init) }
        for layer in 0..<2 {
            let start = (layer * batch + b) * 4
            var h = h0.scalars[start..<(start + 4)].map(Double.init)
            var c = c0.scalars[start..<(start + 4)].map(Double.init)
            sequence = sequence.map { xt in
                (h, c) = referenceStep(xt, h, c, Array(p[(layer * 4)..<(layer * 4 + 4)]))
                return h
            }
            for i in 0..<4 { (expectedHidden[start + i], expectedCell[start + i]) = (h[i], c[i]) }
        }
        for t in 0..<time { for i in 0..<4 { expectedOutput[(b * time + t) * 4 + i] = sequence[t][i] } }
    }
    expectClose(output.scalars, expectedOutput.map(Float.init), absolute: 1e-6, relative: 1e-5)
    expectClose(hn.scalars, expectedHidden.map(Float.init), absolute: 1e-6, relative: 1e-5)
    expectClose(cn.scalars, expectedCell.map(Float.init), absolute: 1e-6, relative: 1e-5)
    // The last output step is the last layer's final hidden state; lstm(x) starts from zeros.
    #expect(output.select(axis: 1, -1).scalars == hn.select(axis: 0, -1).scalars)
    #expect(lstm(x).scalars == lstm(x, state: (.zeros([2, batch, 4]), .zeros([2, batch, 4]))).output.scalars)
}

@Test func lstmGradientsThroughTimeMatchFiniteDifferences() {
    var generator = RandomGenerator(seed: 120)
    let lstm = LSTM(2, 3, numLayers: 2, generator: &generator)
    let x = randomTensor([2, 4, 2], seed: 121)
    let h0 = randomTensor([2, 2, 3], seed: 122), c0 = randomTensor([2, 2, 3], seed: 123)
    expectGradientsMatch([x, h0, c0] + lstm.parameters()) {
        let (output, hn, cn) = lstm(x, state: (h0, c0))
        return Tensor.concatenate([output.reshaped([-1]), hn.reshaped([-1]), cn.reshaped([-1])])
    }
}

@Test("An LSTM given the wrong shapes stops the program naming the layer, the sizes and the shape received")
func lstmWrongShapesStop() async throws {
    let cellState = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var generator = RandomGenerator(seed: 1)
        _ = LSTMCell(3, 4, generator: &generator)(Tensor.zeros([2, 3]), state: (.zeros([2, 4]), .zeros([2, 5])))
    }
    let cellMessage = String(decoding: cellState.standardErrorContent, as: UTF8.self)
    #expect(cellMessage.contains("LSTMCell(3, 4) needs cell [2, 4] for input [2, 3], got [2, 5]"), "\(cellMessage)")

    let sequenceCell = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var generator = RandomGenerator(seed: 1)
        _ = LSTM(3, 4, numLayers: 2, generator: &generator)(Tensor.zeros([2, 5, 3]),
                                                             state: (.zeros([2, 2, 4]), .zeros([2, 4])))
    }
    let sequenceMessage = String(decoding: sequenceCell.standardErrorContent, as: UTF8.self)
    #expect(sequenceMessage.contains("LSTM(3, 4) needs cell [2, 2, 4] for input [2, 5, 3], got [2, 4]"),
            "\(sequenceMessage)")

    let sequenceInput = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var generator = RandomGenerator(seed: 1)
        _ = LSTM(3, 4, generator: &generator)(Tensor.zeros([2, 5, 6]))
    }
    let inputMessage = String(decoding: sequenceInput.standardErrorContent, as: UTF8.self)
    #expect(inputMessage.contains("LSTM(3, 4) needs input [batch, time, 3] (batch first), got [2, 5, 6]"),
            "\(inputMessage)")
}
