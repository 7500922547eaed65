import DataLoading
import Foundation
import NN
import TensorCore

/// Forward passes outside training (no gradients), for figures.
enum Inference {
    /// The test images `indices` of `dataset` as one batch [n, C, H, W].
    static func batch(_ dataset: ImageDataset, _ indices: [Int]) -> Tensor {
        var values = [Float](repeating: 0, count: indices.count * dataset.sampleSize)
        values.withUnsafeMutableBufferPointer { buffer in
            for (i, index) in indices.enumerated() {
                _ = dataset.copySample(at: index, into: buffer.baseAddress! + i * dataset.sampleSize)
            }
        }
        return Tensor(shape: [indices.count] + dataset.sampleShape, values: values)
    }

    /// `module` applied to `input` without recording gradients, as rows of floats.
    static func rows(_ module: any Module, _ input: Tensor) -> [[Float]] {
        withNoGrad {
            let output = module(input)
            let width = output.count / max(output.shape[0], 1)
            return (0..<output.shape[0]).map { Array(UnsafeBufferPointer(start: output.data + $0 * width, count: width)) }
        }
    }

    /// The images `indices` as flat pixel rows in [0, 1].
    static func images(_ dataset: ImageDataset, _ indices: [Int]) -> [[Float]] {
        indices.map { dataset[$0].input }
    }

    /// Predicted class of every test image of `dataset`.
    static func predictions(_ model: any Module, _ dataset: ImageDataset) -> [Int] {
        var predicted: [Int] = []
        var start = 0
        while start < dataset.count {
            let indices = Array(start..<min(start + 500, dataset.count))
            for row in rows(model, batch(dataset, indices)) {
                predicted.append(row.indices.max { row[$0] < row[$1] } ?? 0)
            }
            start += indices.count
        }
        return predicted
    }

    /// Per-image binary cross-entropy of a reconstruction model on every image of `dataset`.
    static func reconstructionLosses(_ model: any Module, _ dataset: ImageDataset) -> [Double] {
        var losses: [Double] = []
        var start = 0
        while start < dataset.count {
            let indices = Array(start..<min(start + 500, dataset.count))
            let inputs = images(dataset, indices)
            for (x, y) in zip(inputs, rows(model, batch(dataset, indices))) {
                losses.append(binaryCrossEntropy(x, y))
            }
            start += indices.count
        }
        return losses
    }

    /// Mean BCE of `predicted` probabilities against `target` pixels (clamped as the trainer's loss).
    static func binaryCrossEntropy(_ target: [Float], _ predicted: [Float]) -> Double {
        var sum = 0.0
        for (t, p) in zip(target, predicted) {
            let p = min(max(Double(p), 1e-7), 1 - 1e-7)
            sum -= Double(t) * log(p) + (1 - Double(t)) * log(1 - p)
        }
        return sum / Double(max(target.count, 1))
    }
}

