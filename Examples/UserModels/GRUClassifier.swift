import NN
import TensorCore

/// The library's GRU reading an image [1, H, W] row by row, its last hidden
/// state into a linear classifier: PyTorch's
///
///     class GRUClassifier(nn.Module):
///         def __init__(self):
///             super().__init__()
///             self.gru = nn.GRU(28, 64, batch_first=True)
///             self.fc = nn.Linear(64, 10)
///         def forward(self, x):
///             _, h = self.gru(x.reshape(-1, 28, 28))
///             return self.fc(h[-1])
///
/// with the same state dict (`gru.weight_ih_l0` [192, 28], ..., `fc.bias`).
public final class GRUClassifier: Module {
    public let gru: GRU
    public let fc: Linear

    public init(inputShape: [Int], hiddenSize: Int = 64, classes: Int = 10, generator: inout RandomGenerator) {
        gru = GRU(inputShape[2], hiddenSize, generator: &generator)
        fc = Linear(hiddenSize, classes, generator: &generator)
    }

    /// x [B, 1, H, W] (or [B, H, W]) -> logits [B, classes].
    public func forward(_ x: Tensor) -> Tensor {
        let rows = x.reshaped([x.shape[0], x.shape[x.rank - 2], x.shape[x.rank - 1]])
        return fc(gru(rows, hidden: nil).hidden.select(axis: 0, 0))
    }
}
