import TensorCore

/// One step of an Elman RNN with tanh, as PyTorch's nn.RNNCell and each
/// layer of nn.RNN:
///
///     h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)
///
/// composed from `linear` and `tanh`, whose recorded rules give the
/// gradient (backpropagation through time is the graph of the steps).
private func rnnStep(_ x: Tensor, _ h: Tensor, weightIH: Tensor, weightHH: Tensor,
                     biasIH: Tensor?, biasHH: Tensor?) -> Tensor {
    (Tensor.linear(x, weight: weightIH, bias: biasIH) + Tensor.linear(h, weight: weightHH, bias: biasHH)).tanh()
}

/// The parameters of one recurrent layer with PyTorch's shapes and
/// initialisation, shared by the RNN, GRU and LSTM: `gates` blocks of
/// `hiddenSize` rows stacked in each tensor (1 for the Elman RNN, 3 for the
/// GRU's r, z, n, 4 for the LSTM's i, f, g, o), so weight_ih is
/// [gates * hidden, input], weight_hh [gates * hidden, hidden] and the biases
/// [gates * hidden]; every tensor U(-1/sqrt(hidden), 1/sqrt(hidden)), in
/// PyTorch's order weight_ih, weight_hh, bias_ih, bias_hh.
func rnnParameters(gates: Int, inputSize: Int, hiddenSize: Int, bias: Bool, generator: inout RandomGenerator)
    -> (weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?) {
    let bound = 1 / Float(hiddenSize).squareRoot()
    let rows = gates * hiddenSize
    let weightIH = Tensor.uniform([rows, inputSize], low: -bound, high: bound, generator: &generator, requiresGrad: true)
    let weightHH = Tensor.uniform([rows, hiddenSize], low: -bound, high: bound, generator: &generator, requiresGrad: true)
    guard bias else { return (weightIH, weightHH, nil, nil) }
    let biasIH = Tensor.uniform([rows], low: -bound, high: bound, generator: &generator, requiresGrad: true)
    let biasHH = Tensor.uniform([rows], low: -bound, high: bound, generator: &generator, requiresGrad: true)
    return (weightIH, weightHH, biasIH, biasHH)
}

/// An Elman RNN cell with tanh, as PyTorch's nn.RNNCell: parameters
/// `weight_ih` [hidden, input], `weight_hh` [hidden, hidden], `bias_ih` and
/// `bias_hh` [hidden], all U(-1/sqrt(hidden), 1/sqrt(hidden)).
/// `cell(x, hidden: h)` maps x [batch, input] and h [batch, hidden] to the
/// next h; `cell(x)` starts from zeros.
public final class RNNCell: Module {
    public let weightIH: Tensor
    public let weightHH: Tensor
    public let biasIH: Tensor?
    public let biasHH: Tensor?

    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        ensure(inputSize > 0 && hiddenSize > 0,
                     "RNNCell sizes must be positive, got input \(inputSize), hidden \(hiddenSize)")
        (weightIH, weightHH, biasIH, biasHH) = rnnParameters(gates: 1, inputSize: inputSize, hiddenSize: hiddenSize,
                                                             bias: bias, generator: &generator)
    }

    public var inputSize: Int { weightIH.shape[1] }
    public var hiddenSize: Int { weightHH.shape[0] }

    /// The next hidden state [batch, hidden] from x [batch, input] and h [batch, hidden].
    public func callAsFunction(_ input: Tensor, hidden: Tensor) -> Tensor {
        ensure(input.rank == 2 && input.shape[1] == inputSize,
                     "RNNCell(\(inputSize), \(hiddenSize)) needs input [batch, \(inputSize)], got \(input.shape)")
        ensure(hidden.shape == [input.shape[0], hiddenSize],
                     "RNNCell(\(inputSize), \(hiddenSize)) needs hidden [\(input.shape[0]), \(hiddenSize)] for input \(input.shape), got \(hidden.shape)")
        return rnnStep(input, hidden, weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH)
    }

    /// The next hidden state from a zero hidden state.
    public func forward(_ input: Tensor) -> Tensor {
        ensure(input.rank == 2, "RNNCell(\(inputSize), \(hiddenSize)) needs input [batch, \(inputSize)], got \(input.shape)")
        return self(input, hidden: .zeros([input.shape[0], hiddenSize]))
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        [("weight_ih", weightIH), ("weight_hh", weightHH)]
            + [biasIH.map { ("bias_ih", $0) }, biasHH.map { ("bias_hh", $0) }].compactMap { $0 }
    }

    public var configurationDescription: String { "\(inputSize) -> \(hiddenSize)" + (biasIH == nil ? ", no bias" : "") }
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
    /// Per layer: (weight_ih, weight_hh, bias_ih, bias_hh).
    let layers: [(weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?)]

    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                generator: inout RandomGenerator) {
        ensure(inputSize > 0 && hiddenSize > 0 && numLayers > 0,
                     "RNN sizes must be positive, got input \(inputSize), hidden \(hiddenSize), \(numLayers) layers")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        var layers: [(weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?)] = []
        for k in 0..<numLayers {
            layers.append(rnnParameters(gates: 1, inputSize: k == 0 ? inputSize : hiddenSize, hiddenSize: hiddenSize,
                                        bias: bias, generator: &generator))
        }
        self.layers = layers
    }

    public var numLayers: Int { layers.count }

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
        var steps = input.unbind(axis: 1)  // time x [batch, features]
        var finals: [Tensor] = []
        for (k, layer) in layers.enumerated() {
            var h = hidden?.select(axis: 0, k) ?? .zeros([batch, hiddenSize])
            steps = steps.map { x in
                h = rnnStep(x, h, weightIH: layer.weightIH, weightHH: layer.weightHH,
                            biasIH: layer.biasIH, biasHH: layer.biasHH)
                return h
            }
            finals.append(h)
        }
        return (Tensor.stack(steps, axis: 1), Tensor.stack(finals, axis: 0))
    }

    /// The output [batch, time, hidden] from a zero initial state.
    public func forward(_ input: Tensor) -> Tensor { self(input, hidden: nil).output }

    public var localParameters: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { k, layer in
            [("weight_ih_l\(k)", layer.weightIH), ("weight_hh_l\(k)", layer.weightHH)]
                + [layer.biasIH.map { ("bias_ih_l\(k)", $0) }, layer.biasHH.map { ("bias_hh_l\(k)", $0) }].compactMap { $0 }
        }
    }

    public var configurationDescription: String {
        "\(inputSize) -> \(hiddenSize)" + (numLayers > 1 ? ", \(numLayers) layers" : "")
            + (layers[0].biasIH == nil ? ", no bias" : "")
    }
}
