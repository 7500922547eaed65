import NN
import TensorCore

/// The training loss: any function of the model's output and the batch
/// that returns the MEAN over the batch as a scalar tensor (the trainer
/// weights by sample counts to combine micro-batches and ranks, so a sum
/// would count the batch size twice). Custom ops (`Function`) compose in it.
///
///     let huber = Loss("huber") { output, batch in
///         let d = output - batch.requireTargets("huber")
///         ...
///     }
public struct Loss {
    /// Shown in logs.
    public let name: String
    private let body: (_ output: Tensor, _ batch: BatchTargets) -> Tensor

    public init(_ name: String, _ body: @escaping (_ output: Tensor, _ batch: BatchTargets) -> Tensor) {
        self.name = name
        self.body = body
    }

    public func callAsFunction(_ output: Tensor, _ batch: BatchTargets) -> Tensor { body(output, batch) }

    /// Cross-entropy of logits against the class labels (torch.nn.CrossEntropyLoss).
    public static var crossEntropy: Loss {
        Loss("cross-entropy") { output, batch in NN.crossEntropy(logits: output, labels: batch.labels) }
    }

    /// Binary cross-entropy of probabilities against the float targets (torch.nn.BCELoss).
    public static var binaryCrossEntropy: Loss {
        Loss("bce") { output, batch in
            NN.binaryCrossEntropy(predicted: output, expected: batch.requireTargets("bce").reshaped(output.shape))
        }
    }

    /// Mean squared error against the float targets (torch.nn.MSELoss), e.g. least squares.
    public static var meanSquaredError: Loss {
        Loss("mse") { output, batch in
            NN.meanSquaredError(predicted: output, expected: batch.requireTargets("mse").reshaped(output.shape))
        }
    }

    /// BCE of the output against the input pixels (an auto-encoder).
    public static var reconstructionBCE: Loss {
        Loss("reconstruction bce") { output, batch in
            NN.binaryCrossEntropy(predicted: output, expected: batch.input.reshaped(output.shape))
        }
    }

    /// MSE of the output against the input pixels (an auto-encoder).
    public static var reconstructionMSE: Loss {
        Loss("reconstruction mse") { output, batch in
            NN.meanSquaredError(predicted: output, expected: batch.input.reshaped(output.shape))
        }
    }
}
