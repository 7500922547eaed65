import TensorCore

/// What RNNCell and GRUCell share: everything but the step. Their state is
/// one hidden tensor, so the checks, the zero start and the parameters are
/// the same code; the subclass gives its name (for messages), the number of
/// gates stacked in its weights and its step. Not for subclassing outside NN
/// (its initialiser is internal).
public class HiddenStateCell: Module {
    let weights: RecurrentWeights
    /// The layer's name in messages: `RNNCell`, `GRUCell`.
    let name: String
    let step: (_ x: Tensor, _ h: Tensor, _ weights: RecurrentWeights) -> Tensor

    init(name: String, gates: Int, step: @escaping (Tensor, Tensor, RecurrentWeights) -> Tensor,
         inputSize: Int, hiddenSize: Int, bias: Bool, generator: inout RandomGenerator) {
        ensure(inputSize > 0 && hiddenSize > 0,
               "\(name) sizes must be positive, got input \(inputSize), hidden \(hiddenSize)")
        self.name = name
        self.step = step
        weights = RecurrentWeights(gates: gates, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias,
                                   generator: &generator)
    }

    public var weightIH: Tensor { weights.weightIH }
    public var weightHH: Tensor { weights.weightHH }
    public var biasIH: Tensor? { weights.biasIH }
    public var biasHH: Tensor? { weights.biasHH }
    public var inputSize: Int { weightIH.shape[1] }
    public var hiddenSize: Int { weightHH.shape[1] }

    /// The next hidden state [batch, hidden] from x [batch, input] and h [batch, hidden].
    public func callAsFunction(_ input: Tensor, hidden: Tensor) -> Tensor {
        ensure(input.rank == 2 && input.shape[1] == inputSize,
               "\(name)(\(inputSize), \(hiddenSize)) needs input [batch, \(inputSize)], got \(input.shape)")
        ensure(hidden.shape == [input.shape[0], hiddenSize],
               "\(name)(\(inputSize), \(hiddenSize)) needs hidden [\(input.shape[0]), \(hiddenSize)] for input \(input.shape), got \(hidden.shape)")
        return step(input, hidden, weights)
    }

    /// The next hidden state from a zero hidden state.
    public func forward(_ input: Tensor) -> Tensor {
        ensure(input.rank == 2, "\(name)(\(inputSize), \(hiddenSize)) needs input [batch, \(inputSize)], got \(input.shape)")
        return self(input, hidden: .zeros([input.shape[0], hiddenSize]))
    }

    public var localParameters: [(name: String, tensor: Tensor)] { weights.named() }

    public var configurationDescription: String { weights.sizes }
}

/// What RNN and GRU share: a stack over a sequence whose state per layer is
/// one hidden tensor, batch first. The subclass gives its name, gates and
/// step, as for `HiddenStateCell`.
public class HiddenStateStack: Module {
    public let inputSize: Int
    public let hiddenSize: Int
    let stack: RecurrentStack
    let name: String
    let step: (_ x: Tensor, _ h: Tensor, _ weights: RecurrentWeights) -> Tensor

    init(name: String, gates: Int, step: @escaping (Tensor, Tensor, RecurrentWeights) -> Tensor,
         inputSize: Int, hiddenSize: Int, numLayers: Int, bias: Bool, generator: inout RandomGenerator) {
        ensure(inputSize > 0 && hiddenSize > 0 && numLayers > 0,
               "\(name) sizes must be positive, got input \(inputSize), hidden \(hiddenSize), \(numLayers) layers")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.name = name
        self.step = step
        stack = RecurrentStack(gates: gates, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                               bias: bias, generator: &generator)
    }

    public var numLayers: Int { stack.layers.count }

    /// Runs the sequence `input` [batch, time, input] from `hidden` h_0
    /// [numLayers, batch, hidden] (zeros when nil). Returns the output
    /// [batch, time, hidden] and h_n [numLayers, batch, hidden].
    public func callAsFunction(_ input: Tensor, hidden: Tensor?) -> (output: Tensor, hidden: Tensor) {
        ensure(input.rank == 3 && input.shape[2] == inputSize,
               "\(name)(\(inputSize), \(hiddenSize)) needs input [batch, time, \(inputSize)] (batch first), got \(input.shape)")
        let (batch, time) = (input.shape[0], input.shape[1])
        ensure(time > 0, "\(name)(\(inputSize), \(hiddenSize)) needs at least one time step, got input \(input.shape)")
        if let hidden {
            ensure(hidden.shape == [numLayers, batch, hiddenSize],
                   "\(name)(\(inputSize), \(hiddenSize)) needs hidden [\(numLayers), \(batch), \(hiddenSize)] for input \(input.shape), got \(hidden.shape)")
        }
        let (output, finals) = stack.run(input, initial: { hidden?.select(axis: 0, $0) ?? .zeros([batch, hiddenSize]) },
                                         hidden: { $0 }, step: step)
        return (output, Tensor.stack(finals, axis: 0))
    }

    /// The output [batch, time, hidden] from a zero initial state.
    public func forward(_ input: Tensor) -> Tensor { self(input, hidden: nil).output }

    public var localParameters: [(name: String, tensor: Tensor)] { stack.parameters }

    public var configurationDescription: String { stack.description }
}
