import NN
import TensorCore

/// A figure reported after each epoch (`"test_<name>"` in the metrics), as
/// a sum and a count per batch, so that shards evaluated on different ranks
/// combine exactly: the value is the total sum over the total count.
///
/// A metric says which way is better (`better`), as Lightning's
/// `ModelCheckpoint(mode=...)` is told: `--keep-best` and `--early-stop`
/// used to guess it from the name, and took `mse` for a figure to raise.
public struct Metric {
    /// Which values of a metric are better.
    public enum Better: String, Sendable {
        case higher, lower
    }

    /// The key in logs and metrics lines, e.g. "accuracy" or "mse".
    public let name: String
    /// Whether a higher or a lower value is better.
    public let better: Better
    private let body: (_ output: Tensor, _ batch: BatchTargets) -> (sum: Double, count: Double)

    public init(_ name: String, better: Better,
                _ body: @escaping (_ output: Tensor, _ batch: BatchTargets) -> (sum: Double, count: Double)) {
        self.name = name
        self.better = better
        self.body = body
    }

    public func callAsFunction(_ output: Tensor, _ batch: BatchTargets) -> (sum: Double, count: Double) {
        body(output, batch)
    }

    /// The fraction of samples whose largest logit is their label.
    public static var accuracy: Metric {
        Metric("accuracy", better: .higher) { output, batch in
            let predicted = output.predictedClasses
            return (Double(zip(predicted, batch.labels).filter { $0 == Int($1) }.count), Double(predicted.count))
        }
    }

    /// Mean squared error against the float targets, per sample (the mean
    /// over a sample's elements, averaged over samples).
    public static var meanSquaredError: Metric {
        Metric("mse", better: .lower) { output, batch in
            let n = Double(output.shape[0])
            let mse = NN.meanSquaredError(predicted: output, expected: batch.requireTargets("mse").reshaped(output.shape))
            return (Double(mse.item()) * n, n)
        }
    }

    /// Mean squared error of the output against the input pixels.
    public static var reconstructionMSE: Metric {
        Metric("mse", better: .lower) { output, batch in
            let n = Double(output.shape[0])
            let mse = NN.meanSquaredError(predicted: output, expected: batch.input.reshaped(output.shape))
            return (Double(mse.item()) * n, n)
        }
    }
}

extension Tensor {
    /// For logits [n, classes]: each row's class with the largest value (the
    /// first one on a tie), as `accuracy` counts it.
    public var predictedClasses: [Int] {
        let (n, classes) = (shape[0], count / max(shape[0], 1))
        return (0..<n).map { i in
            let row = data + i * classes
            var best = 0
            for j in 1..<classes where row[j] > row[best] { best = j }
            return best
        }
    }
}
