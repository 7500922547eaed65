import Collective
import DataLoading
import NN
import Optim
import TensorCore

/// One optimizer step of data-parallel training: forward and loss on this
/// rank's shard of the global batch, backward with gradients averaged across
/// ranks as they are produced, then the optimizer update. The trainer and
/// the benchmark both run it, so what is measured is what trains.
public final class TrainingStep {
    public let model: any Module
    public let parameters: ParameterSet
    public let optimizer: any Optimizer
    public let task: Task
    /// BCE or MSE, for reconstruction tasks.
    public let reconstructionLoss: ReconstructionLoss
    let synchronizer: GradientSynchronizer?

    /// `communicator` of size > 1 enables gradient averaging in buckets of
    /// `bucketBytes`.
    init(model: any Module, parameters: ParameterSet, optimizer: any Optimizer, task: Task,
         reconstructionLoss: ReconstructionLoss = .bce, communicator: Communicator?, bucketBytes: Int) {
        self.model = model
        self.parameters = parameters
        self.optimizer = optimizer
        self.task = task
        self.reconstructionLoss = reconstructionLoss
        if let communicator, communicator.size > 1 {
            synchronizer = GradientSynchronizer(communicator: communicator, parameters: parameters, bucketBytes: bucketBytes)
            optimizer.gradientScale = 1 / Float(communicator.size)
        } else {
            synchronizer = nil
        }
    }

    /// Seconds spent waiting for gradient allreduces so far.
    public var allreduceWaitSeconds: Double { synchronizer?.waitSeconds ?? 0 }

    /// Runs the step on `batch`; returns this rank's mean loss. `position`
    /// names the step in the error if the loss is not finite.
    public func callAsFunction(_ batch: Batch, position: (epoch: Int, step: Int)) throws -> Float {
        parameters.zeroGrad()
        let input = Tensor(shape: batch.shape, values: batch.inputs)
        let loss = taskLoss(task, output: model(input), input: input, labels: batch.labels,
                            reconstructionLoss: reconstructionLoss)
        let value = loss.item()
        guard value.isFinite else {
            throw TrainingError.nonFiniteLoss(epoch: position.epoch, step: position.step, value: value)
        }
        if let synchronizer {
            synchronizer.beginStep()
            var failure: (any Error)?
            loss.backward { tensor in
                do { try synchronizer.gradientReady(tensor) } catch { failure = failure ?? error }
            }
            if let failure { throw failure }
            try synchronizer.finish()
        } else {
            loss.backward()
        }
        // After the allreduce every rank holds the same sums, so all ranks
        // agree on this check and stop at the same step.
        guard parameters.gradients.allFinite else {
            throw TrainingError.nonFiniteGradient(epoch: position.epoch, step: position.step)
        }
        optimizer.step()
        return value
    }
}
