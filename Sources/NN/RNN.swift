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
public final class RNNCell: HiddenStateCell {
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        super.init(name: "RNNCell", gates: 1, step: rnnStep, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias,
                   generator: &generator)
    }
}

/// A stack of `numLayers` tanh RNN layers over a sequence, as PyTorch's
/// nn.RNN(batch_first=True): input [batch, time, input], output [batch,
/// time, hidden] (the last layer's hidden state at every step), final hidden
/// state h_n [numLayers, batch, hidden]. Parameters per layer k, with
/// PyTorch's names and initialisation: `weight_ih_lk` ([hidden, input] for
/// k = 0, [hidden, hidden] above), `weight_hh_lk`, `bias_ih_lk`, `bias_hh_lk`.
/// `rnn(x, hidden: h0)` returns both; `rnn(x)` (the Module call) the output
/// from zeros. Dropout between layers and bidirectional RNNs are not offered.
public final class RNN: HiddenStateStack {
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                generator: inout RandomGenerator) {
        super.init(name: "RNN", gates: 1, step: rnnStep, inputSize: inputSize, hiddenSize: hiddenSize,
                   numLayers: numLayers, bias: bias, generator: &generator)
    }
}
