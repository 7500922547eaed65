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
public final class GRUCell: HiddenStateCell {
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        super.init(name: "GRUCell", gates: 3, step: gruStep, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias,
                   generator: &generator)
    }
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
public final class GRU: HiddenStateStack {
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                generator: inout RandomGenerator) {
        super.init(name: "GRU", gates: 3, step: gruStep, inputSize: inputSize, hiddenSize: hiddenSize,
                   numLayers: numLayers, bias: bias, generator: &generator)
    }
}
