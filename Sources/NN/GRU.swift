import TensorCore

/// One step of a GRU, as PyTorch's nn.GRUCell and each layer of nn.GRU,
/// with the gates in PyTorch's order r, z, n along the rows of the weights:
///
///     r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
///     z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
///     n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
///     h' = (1 - z) * n + z * h
///
/// Each side is one `linear` over all three gates, split into [batch, hidden]
/// pieces: r multiplies W_hn h + b_hn, not the sum, so the two sides cannot
/// be added first as in the Elman step. h' is computed as n + z * (h - n),
/// the same value in one operation fewer (PyTorch's kernel does the same).
/// The recorded rules of these ops give the gradient through time.
private func gruStep(_ x: Tensor, _ h: Tensor, _ w: RecurrentWeights) -> Tensor {
    let hiddenSize = h.shape[1]
    let fromInput = Tensor.linear(x, weight: w.weightIH, bias: w.biasIH).split(hiddenSize, axis: 1)
    let fromHidden = Tensor.linear(h, weight: w.weightHH, bias: w.biasHH).split(hiddenSize, axis: 1)
    let r = (fromInput[0] + fromHidden[0]).sigmoid()
    let z = (fromInput[1] + fromHidden[1]).sigmoid()
    let n = (fromInput[2] + r * fromHidden[2]).tanh()
    return n + z * (h - n)
}

/// A GRU cell, as PyTorch's nn.GRUCell: parameters `weight_ih` [3 hidden,
/// input], `weight_hh` [3 hidden, hidden], `bias_ih` and `bias_hh`
/// [3 hidden], the gates r, z, n stacked in that order, all
/// U(-1/sqrt(hidden), 1/sqrt(hidden)), so a PyTorch state dict loads
/// unchanged. `cell(x, hidden: h)` maps x [batch, input] and h [batch,
/// hidden] to the next h; `cell(x)` starts from zeros.
public final class GRUCell: Module {
    let weights: RecurrentWeights
    public var weightIH: Tensor { weights.weightIH }
    public var weightHH: Tensor { weights.weightHH }
    public var biasIH: Tensor? { weights.biasIH }
    public var biasHH: Tensor? { weights.biasHH }

    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        ensure(inputSize > 0 && hiddenSize > 0,
                     "GRUCell sizes must be positive, got input \(inputSize), hidden \(hiddenSize)")
        weights = RecurrentWeights(gates: 3, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias,
                                   generator: &generator)
    }

    public var inputSize: Int { weightIH.shape[1] }
    public var hiddenSize: Int { weightHH.shape[1] }

    /// The next hidden state [batch, hidden] from x [batch, input] and h [batch, hidden].
    public func callAsFunction(_ input: Tensor, hidden: Tensor) -> Tensor {
        ensure(input.rank == 2 && input.shape[1] == inputSize,
                     "GRUCell(\(inputSize), \(hiddenSize)) needs input [batch, \(inputSize)], got \(input.shape)")
        ensure(hidden.shape == [input.shape[0], hiddenSize],
                     "GRUCell(\(inputSize), \(hiddenSize)) needs hidden [\(input.shape[0]), \(hiddenSize)] for input \(input.shape), got \(hidden.shape)")
        return gruStep(input, hidden, weights)
    }

    /// The next hidden state from a zero hidden state.
    public func forward(_ input: Tensor) -> Tensor {
        ensure(input.rank == 2, "GRUCell(\(inputSize), \(hiddenSize)) needs input [batch, \(inputSize)], got \(input.shape)")
        return self(input, hidden: .zeros([input.shape[0], hiddenSize]))
    }

    public var localParameters: [(name: String, tensor: Tensor)] { weights.named() }

    public var configurationDescription: String { weights.sizes }
}

/// A stack of `numLayers` GRU layers over a sequence, as PyTorch's
/// nn.GRU(batch_first=True): input [batch, time, input], output [batch,
/// time, hidden] (the last layer's hidden state at every step), final hidden
/// state h_n [numLayers, batch, hidden]. Parameters per layer k, with
/// PyTorch's names, gate order (r, z, n) and initialisation: `weight_ih_lk`
/// ([3 hidden, input] for k = 0, [3 hidden, hidden] above), `weight_hh_lk`
/// [3 hidden, hidden], `bias_ih_lk`, `bias_hh_lk` [3 hidden].
/// `gru(x, hidden: h0)` returns both; `gru(x)` (the Module call) the output
/// from zeros. Dropout between layers and bidirectional GRUs are not offered.
public final class GRU: Module {
    public let inputSize: Int
    public let hiddenSize: Int
    let stack: RecurrentStack

    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                generator: inout RandomGenerator) {
        ensure(inputSize > 0 && hiddenSize > 0 && numLayers > 0,
                     "GRU sizes must be positive, got input \(inputSize), hidden \(hiddenSize), \(numLayers) layers")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        stack = RecurrentStack(gates: 3, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                               generator: &generator)
    }

    public var numLayers: Int { stack.layers.count }

    /// Runs the sequence `input` [batch, time, input] from `hidden` h_0
    /// [numLayers, batch, hidden] (zeros when nil). Returns the output
    /// [batch, time, hidden] and h_n [numLayers, batch, hidden].
    public func callAsFunction(_ input: Tensor, hidden: Tensor?) -> (output: Tensor, hidden: Tensor) {
        ensure(input.rank == 3 && input.shape[2] == inputSize,
                     "GRU(\(inputSize), \(hiddenSize)) needs input [batch, time, \(inputSize)] (batch first), got \(input.shape)")
        let (batch, time) = (input.shape[0], input.shape[1])
        ensure(time > 0, "GRU(\(inputSize), \(hiddenSize)) needs at least one time step, got input \(input.shape)")
        if let hidden {
            ensure(hidden.shape == [numLayers, batch, hiddenSize],
                         "GRU(\(inputSize), \(hiddenSize)) needs hidden [\(numLayers), \(batch), \(hiddenSize)] for input \(input.shape), got \(hidden.shape)")
        }
        let (output, finals) = stack.run(input, initial: { hidden?.select(axis: 0, $0) ?? .zeros([batch, hiddenSize]) },
                                         hidden: { $0 }, step: gruStep)
        return (output, Tensor.stack(finals, axis: 0))
    }

    /// The output [batch, time, hidden] from a zero initial state.
    public func forward(_ input: Tensor) -> Tensor { self(input, hidden: nil).output }

    public var localParameters: [(name: String, tensor: Tensor)] { stack.parameters }

    public var configurationDescription: String { stack.description }
}
