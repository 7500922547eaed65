import TensorCore

/// One step of an Elman RNN with tanh, as PyTorch's nn.RNNCell and each
/// layer of nn.RNN:
///
///     h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)
///
/// composed from `linear` and `tanh`, whose recorded rules give the
/// gradient (backpropagation through time is the graph of the steps).
private func rnnStep(_ x: Tensor, _ h: Tensor, _ w: RecurrentWeights) -> Tensor {
    (Tensor.linear(x, weight: w.weightIH, bias: w.biasIH) + Tensor.linear(h, weight: w.weightHH, bias: w.biasHH)).tanh()
}

/// An Elman RNN cell with tanh, as PyTorch's nn.RNNCell: parameters
/// `weight_ih` [hidden, input], `weight_hh` [hidden, hidden], `bias_ih` and
/// `bias_hh` [hidden], all U(-1/sqrt(hidden), 1/sqrt(hidden)).
/// `cell(x, hidden: h)` maps x [batch, input] and h [batch, hidden] to the
/// next h; `cell(x)` starts from zeros.
public final class RNNCell: Module {
    let weights: RecurrentWeights
    public var weightIH: Tensor { weights.weightIH }
    public var weightHH: Tensor { weights.weightHH }
    public var biasIH: Tensor? { weights.biasIH }
    public var biasHH: Tensor? { weights.biasHH }

    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        ensure(inputSize > 0 && hiddenSize > 0,
                     "RNNCell sizes must be positive, got input \(inputSize), hidden \(hiddenSize)")
        weights = RecurrentWeights(gates: 1, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias,
                                   generator: &generator)
    }

    public var inputSize: Int { weightIH.shape[1] }
    public var hiddenSize: Int { weightHH.shape[0] }

    /// The next hidden state [batch, hidden] from x [batch, input] and h [batch, hidden].
    public func callAsFunction(_ input: Tensor, hidden: Tensor) -> Tensor {
        ensure(input.rank == 2 && input.shape[1] == inputSize,
                     "RNNCell(\(inputSize), \(hiddenSize)) needs input [batch, \(inputSize)], got \(input.shape)")
        ensure(hidden.shape == [input.shape[0], hiddenSize],
                     "RNNCell(\(inputSize), \(hiddenSize)) needs hidden [\(input.shape[0]), \(hiddenSize)] for input \(input.shape), got \(hidden.shape)")
        return rnnStep(input, hidden, weights)
    }

    /// The next hidden state from a zero hidden state.
    public func forward(_ input: Tensor) -> Tensor {
        ensure(input.rank == 2, "RNNCell(\(inputSize), \(hiddenSize)) needs input [batch, \(inputSize)], got \(input.shape)")
        return self(input, hidden: .zeros([input.shape[0], hiddenSize]))
    }

    public var localParameters: [(name: String, tensor: Tensor)] { weights.named() }

    public var configurationDescription: String { weights.sizes }
}

/// A stack of `numLayers` tanh RNN layers over a sequence, as PyTorch's
/// nn.RNN(batch_first=True): input [batch, time, input], output [batch,
/// time, hidden] (the last layer's hidden state at every step), final hidden
/// state h_n [numLayers, batch, hidden]. Parameters per layer k, with
/// PyTorch's names and initialisation: `weight_ih_lk` ([hidden, input] for
/// k = 0, [hidden, hidden] above), `weight_hh_lk`, `bias_ih_lk`, `bias_hh_lk`.
/// `rnn(x, hidden: h0)` returns both; `rnn(x)` (the Module call) the output
/// from zeros. Dropout between layers and bidirectional RNNs are not offered.
public final class RNN: Module {
    public let inputSize: Int
    public let hiddenSize: Int
    let stack: RecurrentStack

    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                generator: inout RandomGenerator) {
        ensure(inputSize > 0 && hiddenSize > 0 && numLayers > 0,
                     "RNN sizes must be positive, got input \(inputSize), hidden \(hiddenSize), \(numLayers) layers")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        stack = RecurrentStack(gates: 1, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                               generator: &generator)
    }

    public var numLayers: Int { stack.layers.count }

    /// Runs the sequence `input` [batch, time, input] from `hidden` h_0
    /// [numLayers, batch, hidden] (zeros when nil). Returns the output
    /// [batch, time, hidden] and h_n [numLayers, batch, hidden].
    public func callAsFunction(_ input: Tensor, hidden: Tensor?) -> (output: Tensor, hidden: Tensor) {
        ensure(input.rank == 3 && input.shape[2] == inputSize,
                     "RNN(\(inputSize), \(hiddenSize)) needs input [batch, time, \(inputSize)] (batch first), got \(input.shape)")
        let (batch, time) = (input.shape[0], input.shape[1])
        ensure(time > 0, "RNN(\(inputSize), \(hiddenSize)) needs at least one time step, got input \(input.shape)")
        if let hidden {
            ensure(hidden.shape == [numLayers, batch, hiddenSize],
                         "RNN(\(inputSize), \(hiddenSize)) needs hidden [\(numLayers), \(batch), \(hiddenSize)] for input \(input.shape), got \(hidden.shape)")
        }
        let (output, finals) = stack.run(input, initial: { hidden?.select(axis: 0, $0) ?? .zeros([batch, hiddenSize]) },
                                         hidden: { $0 }, step: rnnStep)
        return (output, Tensor.stack(finals, axis: 0))
    }

    /// The output [batch, time, hidden] from a zero initial state.
    public func forward(_ input: Tensor) -> Tensor { self(input, hidden: nil).output }

    public var localParameters: [(name: String, tensor: Tensor)] { stack.parameters }

    public var configurationDescription: String { stack.description }
}
