import Foundation
import TensorExpectations
import Testing
import NN
import TensorCore

/// PyTorch's GRU equations in Double, for one sample, with the gates r, z, n
/// stacked in that order in `parameters` (weight_ih, weight_hh, then bias_ih,
/// bias_hh when present):
///
///     r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise,
///     n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
private func referenceStep(_ x: [Double], _ h: [Double], _ parameters: [Tensor]) -> [Double] {
    let hidden = h.count
    /// Row `row` of W v + b.
    func affine(_ weight: Tensor, _ bias: Tensor?, _ v: [Double], _ row: Int) -> Double {
        var s = bias.map { Double($0.data[row]) } ?? 0
        for j in 0..<v.count { s += Double(weight.data[row * v.count + j]) * v[j] }
        return s
    }
    func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
    let (wih, whh) = (parameters[0], parameters[1])
    let (bih, bhh) = parameters.count == 4 ? (parameters[2], parameters[3]) : (nil, nil)
    return (0..<hidden).map { i in
        let r = sigmoid(affine(wih, bih, x, i) + affine(whh, bhh, h, i))
        let z = sigmoid(affine(wih, bih, x, hidden + i) + affine(whh, bhh, h, hidden + i))
        let n = tanh(affine(wih, bih, x, 2 * hidden + i) + r * affine(whh, bhh, h, 2 * hidden + i))
        return (1 - z) * n + z * h[i]
    }
}

@Test func gruCellHasPyTorchsNamesShapesAndInitialisation() {
    var generator = RandomGenerator(seed: 90)
    let cell = GRUCell(3, 16, generator: &generator)
    #expect(cell.namedParameters().map(\.name) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
    #expect(cell.parameters().map(\.shape) == [[48, 3], [48, 16], [48], [48]])
    // U(-1/sqrt(16), 1/sqrt(16)) = U(-0.25, 0.25): inside the bound, and reaching near it.
    #expect(cell.parameters().allSatisfy { $0.scalars.allSatisfy { abs($0) <= 0.25 } })
    #expect(cell.weightHH.scalars.map(abs).max()! > 0.24)
    #expect(GRUCell(3, 4, bias: false, generator: &generator).namedParameters().map(\.name) == ["weight_ih", "weight_hh"])
    #expect(cell.configurationDescription == "3 -> 16")
}

@Test func gruCellMatchesTheDoubleReferenceAndFiniteDifferences() {
    var generator = RandomGenerator(seed: 91)
    for bias in [true, false] {
        let cell = GRUCell(3, 4, bias: bias, generator: &generator)
        let x = randomTensor([2, 3], seed: 92), h = randomTensor([2, 4], seed: 93)
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
}

@Test func gruHasTorchNNGRUsParameterNames() {
    var generator = RandomGenerator(seed: 94)
    let gru = GRU(3, 5, numLayers: 2, generator: &generator)
    #expect(gru.namedParameters().map(\.name) == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
        "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
    ])
    #expect(gru.parameters().map(\.shape) == [[15, 3], [15, 5], [15], [15], [15, 5], [15, 5], [15], [15]])
    let bound = 1 / Float(5).squareRoot()
    #expect(gru.parameters().allSatisfy { $0.scalars.allSatisfy { abs($0) <= bound } })
    #expect(GRU(3, 5, numLayers: 2, bias: false, generator: &generator).namedParameters().map(\.name) == [
        "weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1",
    ])
    #expect(gru.configurationDescription == "3 -> 5, 2 layers")
}

@Test func gruOverASequenceMatchesTheDoubleReference() {
    var generator = RandomGenerator(seed: 95)
    let gru = GRU(3, 4, numLayers: 2, generator: &generator)
    let (batch, time) = (2, 5)
    let x = randomTensor([batch, time, 3], seed: 96), h0 = randomTensor([2, batch, 4], seed: 97)
    let (output, hn) = gru(x, hidden: h0)
    #expect(output.shape == [batch, time, 4])
    #expect(hn.shape == [2, batch, 4])
    let p = gru.parameters()
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
    // The last output step is the last layer's final hidden state; gru(x) starts from zeros.
    #expect(output.select(axis: 1, -1).scalars == hn.select(axis: 0, -1).scalars)
    #expect(gru(x).scalars == gru(x, hidden: .zeros([2, batch, 4])).output.scalars)
}

@Test func gruGradientsThroughTimeMatchFiniteDifferences() {
    var generator = RandomGenerator(seed: 98)
    let gru = GRU(2, 3, numLayers: 2, generator: &generator)
    let x = randomTensor([2, 4, 2], seed: 99), h0 = randomTensor([2, 2, 3], seed: 100)
    expectGradientsMatch([x, h0] + gru.parameters()) {
        let (output, hn) = gru(x, hidden: h0)
        return Tensor.concatenate([output.reshaped([-1]), hn.reshaped([-1])])
    }
}

@Test("A GRU given the wrong shapes stops the program naming the layer, the sizes and the shape received")
func gruWrongShapesStop() async throws {
    let cellInput = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var generator = RandomGenerator(seed: 1)
        _ = GRUCell(3, 4, generator: &generator)(Tensor.zeros([2, 5]), hidden: .zeros([2, 4]))
    }
    let cellMessage = String(decoding: cellInput.standardErrorContent, as: UTF8.self)
    #expect(cellMessage.contains("GRUCell(3, 4) needs input [batch, 3], got [2, 5]"), "\(cellMessage)")

    let sequenceHidden = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var generator = RandomGenerator(seed: 1)
        _ = GRU(3, 4, numLayers: 2, generator: &generator)(Tensor.zeros([2, 5, 3]), hidden: .zeros([1, 2, 4]))
    }
    let hiddenMessage = String(decoding: sequenceHidden.standardErrorContent, as: UTF8.self)
    #expect(hiddenMessage.contains("GRU(3, 4) needs hidden [2, 2, 4] for input [2, 5, 3], got [1, 2, 4]"),
            "\(hiddenMessage)")

    let sequenceInput = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var generator = RandomGenerator(seed: 1)
        _ = GRU(3, 4, generator: &generator)(Tensor.zeros([5, 3]))
    }
    let inputMessage = String(decoding: sequenceInput.standardErrorContent, as: UTF8.self)
    #expect(inputMessage.contains("GRU(3, 4) needs input [batch, time, 3] (batch first), got [5, 3]"), "\(inputMessage)")
}
