import TensorCore

/// One step of an LSTM, as PyTorch's nn.LSTMCell and each layer of nn.LSTM,
/// with the gates in PyTorch's order i, f, g, o along the rows of the
/// weights:
///
///     [i, f, g, o] = x W_ih^T + b_ih + h W_hh^T + b_hh
///     c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
///     h' = sigmoid(o) * tanh(c')
///
/// Unlike the GRU, every gate sees the plain sum of both sides, so the two
/// `linear`s are added once and the sum split into [batch, hidden] pieces.
/// The recorded rules of these ops give the gradient through time.
private func lstmStep(_ x: Tensor, _ state: (hidden: Tensor, cell: Tensor), _ w: RecurrentWeights)
    -> (hidden: Tensor, cell: Tensor) {
    let (h, c) = state
    let gates = (Tensor.linear(x, weight: w.weightIH, bias: w.biasIH) + Tensor.linear(h, weight: w.weightHH, bias: w.biasHH))
        .split(h.shape[1], axis: 1)
    let (i, f, g, o) = (gates[0].sigmoid(), gates[1].sigmoid(), gates[2].tanh(), gates[3].sigmoid())
    let cell = f * c + i * g
    return (o * cell.tanh(), cell)
}

/// An LSTM cell, as PyTorch's nn.LSTMCell: parameters `weight_ih` [4 hidden,
/// input], `weight_hh` [4 hidden, hidden], `bias_ih` and `bias_hh`
/// [4 hidden], the gates i, f, g, o stacked in that order, all
/// U(-1/sqrt(hidden), 1/sqrt(hidden)), so a PyTorch state dict loads
/// unchanged. `cell(x, state: (h, c))` maps x [batch, input] and h, c
/// [batch, hidden] to the next (h, c); `cell(x)` (the Module call) starts
/// from zeros and returns the next h only, as a Module returns one tensor.
public final class LSTMCell: Module {
    let weights: RecurrentWeights
    public var weightIH: Tensor { weights.weightIH }
    public var weightHH: Tensor { weights.weightHH }
    public var biasIH: Tensor? { weights.biasIH }
    public var biasHH: Tensor? { weights.biasHH }

    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        ensure(inputSize > 0 && hiddenSize > 0,
                     "LSTMCell sizes must be positive, got input \(inputSize), hidden \(hiddenSize)")
        weights = RecurrentWeights(gates: 4, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias,
                                   generator: &generator)
    }

    public var inputSize: Int { weightIH.shape[1] }
    public var hiddenSize: Int { weightHH.shape[1] }

    /// The next (hidden, cell) state, each [batch, hidden], from x [batch,
    /// input] and the state (h, c), each [batch, hidden].
    public func callAsFunction(_ input: Tensor, state: (hidden: Tensor, cell: Tensor))
        -> (hidden: Tensor, cell: Tensor) {
        ensure(input.rank == 2 && input.shape[1] == inputSize,
                     "LSTMCell(\(inputSize), \(hiddenSize)) needs input [batch, \(inputSize)], got \(input.shape)")
        ensure(state.hidden.shape == [input.shape[0], hiddenSize],
                     "LSTMCell(\(inputSize), \(hiddenSize)) needs hidden [\(input.shape[0]), \(hiddenSize)] for input \(input.shape), got \(state.hidden.shape)")
        ensure(state.cell.shape == [input.shape[0], hiddenSize],
                     "LSTMCell(\(inputSize), \(hiddenSize)) needs cell [\(input.shape[0]), \(hiddenSize)] for input \(input.shape), got \(state.cell.shape)")
        return lstmStep(input, state, weights)
    }

    /// The next hidden state from a zero state.
    public func forward(_ input: Tensor) -> Tensor {
        ensure(input.rank == 2, "LSTMCell(\(inputSize), \(hiddenSize)) needs input [batch, \(inputSize)], got \(input.shape)")
        let zeros = Tensor.zeros([input.shape[0], hiddenSize])
        return self(input, state: (zeros, zeros)).hidden
    }

    public var localParameters: [(name: String, tensor: Tensor)] { weights.named() }

    public var configurationDescription: String { weights.sizes }
}

/// A stack of `numLayers` LSTM layers over a sequence, as PyTorch's
/// nn.LSTM(batch_first=True): input [batch, time, input], output [batch,
/// time, hidden] (the last layer's hidden state at every step), final states
/// h_n and c_n [numLayers, batch, hidden]. Parameters per layer k, with
/// PyTorch's names, gate order (i, f, g, o) and initialisation:
/// `weight_ih_lk` ([4 hidden, input] for k = 0, [4 hidden, hidden] above),
/// `weight_hh_lk` [4 hidden, hidden], `bias_ih_lk`, `bias_hh_lk` [4 hidden].
/// `lstm(x, state: (h0, c0))` returns all three; `lstm(x)` (the Module
/// call) the output from zeros. Dropout between layers, bidirectional LSTMs
/// and projections (`proj_size`) are not offered.
public final class LSTM: Module {
    public let inputSize: Int
    public let hiddenSize: Int
    let stack: RecurrentStack

    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                generator: inout RandomGenerator) {
        ensure(inputSize > 0 && hiddenSize > 0 && numLayers > 0,
                     "LSTM sizes must be positive, got input \(inputSize), hidden \(hiddenSize), \(numLayers) layers")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        stack = RecurrentStack(gates: 4, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                               generator: &generator)
    }

    public var numLayers: Int { stack.layers.count }

    /// Runs the sequence `input` [batch, time, input] from `state` (h_0, c_0),
    /// each [numLayers, batch, hidden] (zeros when nil). Returns the output
    /// [batch, time, hidden] and h_n, c_n [numLayers, batch, hidden].
    public func callAsFunction(_ input: Tensor, state: (hidden: Tensor, cell: Tensor)?)
        -> (output: Tensor, hidden: Tensor, cell: Tensor) {
        ensure(input.rank == 3 && input.shape[2] == inputSize,
                     "LSTM(\(inputSize), \(hiddenSize)) needs input [batch, time, \(inputSize)] (batch first), got \(input.shape)")
        let (batch, time) = (input.shape[0], input.shape[1])
        ensure(time > 0, "LSTM(\(inputSize), \(hiddenSize)) needs at least one time step, got input \(input.shape)")
        if let state {
            ensure(state.hidden.shape == [numLayers, batch, hiddenSize],
                         "LSTM(\(inputSize), \(hiddenSize)) needs hidden [\(numLayers), \(batch), \(hiddenSize)] for input \(input.shape), got \(state.hidden.shape)")
            ensure(state.cell.shape == [numLayers, batch, hiddenSize],
                         "LSTM(\(inputSize), \(hiddenSize)) needs cell [\(numLayers), \(batch), \(hiddenSize)] for input \(input.shape), got \(state.cell.shape)")
        }
        let zeros = Tensor.zeros([batch, hiddenSize])
        let (output, finals) = stack.run(input, initial: { k in
            (state?.hidden.select(axis: 0, k) ?? zeros, state?.cell.select(axis: 0, k) ?? zeros)
        }, hidden: { $0.hidden }, step: lstmStep)
        return (output, Tensor.stack(finals.map(\.hidden), axis: 0), Tensor.stack(finals.map(\.cell), axis: 0))
    }

    /// The output [batch, time, hidden] from a zero initial state.
    public func forward(_ input: Tensor) -> Tensor { self(input, state: nil).output }

    public var localParameters: [(name: String, tensor: Tensor)] { stack.parameters }

    public var configurationDescription: String { stack.description }
}
