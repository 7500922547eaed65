import DataLoading
import Foundation
import NN
import TensorCore
import Training

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

    /// Predicted class of every test image of `dataset` (as the accuracy metric counts it).
    static func predictions(_ model: any Module, _ dataset: ImageDataset) -> [Int] {
        var predicted: [Int] = []
        var start = 0
        while start < dataset.count {
            let indices = Array(start..<min(start + 500, dataset.count))
            predicted += withNoGrad { model(batch(dataset, indices)).predictedClasses }
            start += indices.count
        }
        return predicted
    }

    /// Per-image binary cross-entropy of a reconstruction model on every
    /// image of `dataset`: the trainer's own loss (`NN.binaryCrossEntropy`,
    /// its log clamped at -100) on each image alone.
    static func reconstructionLosses(_ model: any Module, _ dataset: ImageDataset) -> [Double] {
        var losses: [Double] = []
        var start = 0
        while start < dataset.count {
            let indices = Array(start..<min(start + 500, dataset.count))
            let input = batch(dataset, indices)
            withNoGrad {
                let output = model(input)
                let width = dataset.sampleSize
                for i in 0..<indices.count {
                    let predicted = Tensor(shape: [1, width], storage: output.storage, offset: output.offset + i * width)
                    let expected = Tensor(shape: [1, width], storage: input.storage, offset: i * width)
                    losses.append(Double(NN.binaryCrossEntropy(predicted: predicted, expected: expected).item()))
                }
            }
            start += indices.count
        }
        return losses
    }
}
