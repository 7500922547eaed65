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
private func gruStep(_ x: Tensor, _ h: Tensor, weightIH: Tensor, weightHH: Tensor,
                     biasIH: Tensor?, biasHH: Tensor?) -> Tensor {
    let hiddenSize = h.shape[1]
    let fromInput = Tensor.linear(x, weight: weightIH, bias: biasIH).split(hiddenSize, axis: 1)
    let fromHidden = Tensor.linear(h, weight: weightHH, bias: biasHH).split(hiddenSize, axis: 1)
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
    public let weightIH: Tensor
    public let weightHH: Tensor
    public let biasIH: Tensor?
    public let biasHH: Tensor?

    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        ensure(inputSize > 0 && hiddenSize > 0,
                     "GRUCell sizes must be positive, got input \(inputSize), hidden \(hiddenSize)")
        (weightIH, weightHH, biasIH, biasHH) = rnnParameters(gates: 3, inputSize: inputSize, hiddenSize: hiddenSize,
                                                             bias: bias, generator: &generator)
    }

    public var inputSize: Int { weightIH.shape[1] }
    public var hiddenSize: Int { weightHH.shape[1] }

    /// The next hidden state [batch, hidden] from x [batch, input] and h [batch, hidden].
    public func callAsFunction(_ input: Tensor, hidden: Tensor) -> Tensor {
        ensure(input.rank == 2 && input.shape[1] == inputSize,
                     "GRUCell(\(inputSize), \(hiddenSize)) needs input [batch, \(inputSize)], got \(input.shape)")
        ensure(hidden.shape == [input.shape[0], hiddenSize],
                     "GRUCell(\(inputSize), \(hiddenSize)) needs hidden [\(input.shape[0]), \(hiddenSize)] for input \(input.shape), got \(hidden.shape)")
        return gruStep(input, hidden, weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH)
    }

    /// The next hidden state from a zero hidden state.
    public func forward(_ input: Tensor) -> Tensor {
        ensure(input.rank == 2, "GRUCell(\(inputSize), \(hiddenSize)) needs input [batch, \(inputSize)], got \(input.shape)")
        return self(input, hidden: .zeros([input.shape[0], hiddenSize]))
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        [("weight_ih", weightIH), ("weight_hh", weightHH)]
            + [biasIH.map { ("bias_ih", $0) }, biasHH.map { ("bias_hh", $0) }].compactMap { $0 }
    }

    public var configurationDescription: String { "\(inputSize) -> \(hiddenSize)" + (biasIH == nil ? ", no bias" : "") }
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
    /// Per layer: (weight_ih, weight_hh, bias_ih, bias_hh).
    let layers: [(weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?)]

    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                generator: inout RandomGenerator) {
        ensure(inputSize > 0 && hiddenSize > 0 && numLayers > 0,
                     "GRU sizes must be positive, got input \(inputSize), hidden \(hiddenSize), \(numLayers) layers")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        var layers: [(weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?)] = []
        for k in 0..<numLayers {
            layers.append(rnnParameters(gates: 3, inputSize: k == 0 ? inputSize : hiddenSize, hiddenSize: hiddenSize,
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
                     "GRU(\(inputSize), \(hiddenSize)) needs input [batch, time, \(inputSize)] (batch first), got \(input.shape)")
        let (batch, time) = (input.shape[0], input.shape[1])
        ensure(time > 0, "GRU(\(inputSize), \(hiddenSize)) needs at least one time step, got input \(input.shape)")
        if let hidden {
            ensure(hidden.shape == [numLayers, batch, hiddenSize],
                         "GRU(\(inputSize), \(hiddenSize)) needs hidden [\(numLayers), \(batch), \(hiddenSize)] for input \(input.shape), got \(hidden.shape)")
        }
        var steps = input.unbind(axis: 1)  // time x [batch, features]
        var finals: [Tensor] = []
        for (k, layer) in layers.enumerated() {
            var h = hidden?.select(axis: 0, k) ?? .zeros([batch, hiddenSize])
            steps = steps.map { x in
                h = gruStep(x, h, weightIH: layer.weightIH, weightHH: layer.weightHH,
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
