import TensorCore

/// One recurrent layer's parameters with PyTorch's shapes and initialisation,
/// shared by the RNN, GRU and LSTM, cells and stacks: `gates` blocks of
/// `hiddenSize` rows stacked in each tensor (1 for the Elman RNN, 3 for the
/// GRU's r, z, n, 4 for the LSTM's i, f, g, o), so weight_ih is
/// [gates * hidden, input], weight_hh [gates * hidden, hidden] and the biases
/// [gates * hidden]; every tensor U(-1/sqrt(hidden), 1/sqrt(hidden)), drawn
/// in PyTorch's order weight_ih, weight_hh, bias_ih, bias_hh.
struct RecurrentWeights {
    let weightIH: Tensor
    let weightHH: Tensor
    let biasIH: Tensor?
    let biasHH: Tensor?

    init(gates: Int, inputSize: Int, hiddenSize: Int, bias: Bool, generator: inout RandomGenerator) {
        let bound = 1 / Float(hiddenSize).squareRoot()
        let rows = gates * hiddenSize
        weightIH = Tensor.uniform([rows, inputSize], low: -bound, high: bound, generator: &generator, requiresGrad: true)
        weightHH = Tensor.uniform([rows, hiddenSize], low: -bound, high: bound, generator: &generator, requiresGrad: true)
        biasIH = bias ? Tensor.uniform([rows], low: -bound, high: bound, generator: &generator, requiresGrad: true) : nil
        biasHH = bias ? Tensor.uniform([rows], low: -bound, high: bound, generator: &generator, requiresGrad: true) : nil
    }

    /// PyTorch's state_dict names, each followed by `suffix` (`_l0` for
    /// layer 0 of a stack, nothing for a cell).
    func named(suffix: String = "") -> [(name: String, tensor: Tensor)] {
        [("weight_ih" + suffix, weightIH), ("weight_hh" + suffix, weightHH)]
            + [biasIH.map { ("bias_ih" + suffix, $0) }, biasHH.map { ("bias_hh" + suffix, $0) }].compactMap { $0 }
    }

    /// "input -> hidden", and ", no bias" without biases.
    var sizes: String { "\(weightIH.shape[1]) -> \(weightHH.shape[1])" + (biasIH == nil ? ", no bias" : "") }
}

/// The layers of an RNN, GRU or LSTM stack (PyTorch's nn.RNN and friends,
/// batch first) and the loop over time they share: layer 0 reads the input,
/// each layer above reads the hidden states of the one below.
struct RecurrentStack {
    let layers: [RecurrentWeights]

    init(gates: Int, inputSize: Int, hiddenSize: Int, numLayers: Int, bias: Bool, generator: inout RandomGenerator) {
        var layers: [RecurrentWeights] = []
        for k in 0..<numLayers {
            layers.append(RecurrentWeights(gates: gates, inputSize: k == 0 ? inputSize : hiddenSize,
                                           hiddenSize: hiddenSize, bias: bias, generator: &generator))
        }
        self.layers = layers
    }

    /// `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, then layer 1's, ...
    var parameters: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { k, layer in layer.named(suffix: "_l\(k)") }
    }

    /// "input -> hidden", the number of layers above one, ", no bias" without biases.
    var description: String {
        let sizes = "\(layers[0].weightIH.shape[1]) -> \(layers[0].weightHH.shape[1])"
        return sizes + (layers.count > 1 ? ", \(layers.count) layers" : "") + (layers[0].biasIH == nil ? ", no bias" : "")
    }

    /// Runs `input` [batch, time, features] through every layer: `initial(k)`
    /// is layer k's starting state, `step(x, state, weights)` one step of one
    /// layer and `hidden(state)` the h it passes up. Returns the last layer's
    /// h at every step [batch, time, hidden] and each layer's final state.
    func run<State>(_ input: Tensor, initial: (Int) -> State, hidden: (State) -> Tensor,
                    step: (Tensor, State, RecurrentWeights) -> State) -> (output: Tensor, finals: [State]) {
        var steps = input.unbind(axis: 1)  // time x [batch, features]
        var finals: [State] = []
        for (k, layer) in layers.enumerated() {
            var state = initial(k)
            steps = steps.map { x in
                state = step(x, state, layer)
                return hidden(state)
            }
            finals.append(state)
        }
        return (Tensor.stack(steps, axis: 1), finals)
    }
}
