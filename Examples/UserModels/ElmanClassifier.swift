import NN
import TensorCore

/// An Elman RNN written by hand from public ops, reading an image [1, H, W]
/// row by row (H steps of W features), its last hidden state into a linear
/// classifier:
///
///     h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),   h_0 = 0
///     logits = h_H W_fc^T + b_fc
///
/// Its state dict is that of a PyTorch module holding `rnn = nn.RNN(W,
/// hidden, batch_first=True)` and `fc = nn.Linear(hidden, classes)`:
/// `rnn.weight_ih_l0`, `rnn.weight_hh_l0`, `rnn.bias_ih_l0`,
/// `rnn.bias_hh_l0`, `fc.weight`, `fc.bias`.
public final class ElmanClassifier: Module {
    /// The recurrence, its parameters named as nn.RNN's.
    final class Recurrence: Module {
        let weightIH: Tensor
        let weightHH: Tensor
        let biasIH: Tensor
        let biasHH: Tensor

        var localParameters: [(name: String, tensor: Tensor)] {
            [("weight_ih_l0", weightIH), ("weight_hh_l0", weightHH), ("bias_ih_l0", biasIH), ("bias_hh_l0", biasHH)]
        }

        init(inputSize: Int, hiddenSize: Int, generator: inout RandomGenerator) {
            let bound = 1 / Float(hiddenSize).squareRoot()
            func uniform(_ shape: [Int]) -> Tensor {
                Tensor.uniform(shape, low: -bound, high: bound, generator: &generator, requiresGrad: true)
            }
            weightIH = uniform([hiddenSize, inputSize])
            weightHH = uniform([hiddenSize, hiddenSize])
            biasIH = uniform([hiddenSize])
            biasHH = uniform([hiddenSize])
        }

        /// x [B, T, I] -> the last hidden state [B, hidden].
        func forward(_ x: Tensor) -> Tensor {
            let batch = x.shape[0], steps = x.shape[1], hidden = weightHH.shape[0]
            var h = Tensor.zeros([batch, hidden])
            for t in 0..<steps {
                let input = Tensor.linear(x.select(axis: 1, t), weight: weightIH, bias: biasIH)
                h = (input + Tensor.linear(h, weight: weightHH, bias: biasHH)).tanh()
            }
            return h
        }
    }

    let rnn: Recurrence
    public let fc: Linear

    public init(inputShape: [Int], hiddenSize: Int = 64, classes: Int = 10, generator: inout RandomGenerator) {
        rnn = Recurrence(inputSize: inputShape[2], hiddenSize: hiddenSize, generator: &generator)
        fc = Linear(hiddenSize, classes, generator: &generator)
    }

    /// x [B, 1, H, W] (or [B, H, W]) -> logits [B, classes].
    public func forward(_ x: Tensor) -> Tensor {
        let rows = x.reshaped([x.shape[0], x.shape[x.rank - 2], x.shape[x.rank - 1]])
        return fc(rnn(rows))
    }
}
