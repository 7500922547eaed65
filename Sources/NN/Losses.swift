import TensorCore

/// Mean cross-entropy of [N, C] logits against N class labels (log-softmax
/// and negative log-likelihood fused, numerically stable).
public func crossEntropy(logits: Tensor, labels: [Int32]) -> Tensor {
    Tensor.crossEntropy(logits: logits, labels: labels)
}

/// Mean binary cross-entropy of probabilities (each log clamped at -100).
public func binaryCrossEntropy(predicted: Tensor, expected: Tensor) -> Tensor {
    Tensor.binaryCrossEntropy(predicted: predicted, expected: expected)
}

/// Mean squared error.
public func meanSquaredError(predicted: Tensor, expected: Tensor) -> Tensor {
    Tensor.meanSquaredError(predicted: predicted, expected: expected)
}
