import Foundation
import Optim

// torch.optim.lr_scheduler's chainable get_lr formulas, written independently
// in Double: each learning rate from the previous one, as torch computes it
// when step() is called without an epoch. The schedules under test use the
// closed forms; the two differ by rounding only.

/// The learning rates torch gives at epochs 0...epochs (index = last_epoch),
/// starting from construction (which torch counts as the first step).
func torchRecursiveLearningRates(_ kind: LearningRateSchedule.Kind, base: Double, epochs: Int) -> [Double] {
    var lrs: [Double] = []
    var lr = base
    for epoch in 0...epochs {
        lr = torchGetLR(kind, base: base, previous: lr, epoch: epoch)
        lrs.append(lr)
    }
    return lrs
}

private func torchGetLR(_ kind: LearningRateSchedule.Kind, base: Double, previous lr: Double, epoch: Int) -> Double {
    switch kind {
    case let .step(stepSize, gamma):
        // StepLR.get_lr
        return epoch == 0 || epoch % stepSize != 0 ? lr : lr * gamma
    case let .multiStep(milestones, gamma):
        // MultiStepLR.get_lr (milestones is a Counter: each appears once here)
        return milestones.contains(epoch) ? lr * pow(gamma, 1) : lr
    case let .cosineAnnealing(tMax, etaMin):
        return cosineGetLR(previous: lr, base: base, epoch: epoch, tMax: tMax, etaMin: etaMin)
    case let .linear(startFactor, endFactor, totalIters):
        return linearGetLR(previous: lr, epoch: epoch, startFactor: startFactor, endFactor: endFactor,
                           totalIters: totalIters)
    case let .warmupCosine(warmup, startFactor, tMax, etaMin):
        // SequentialLR.step: LinearLR before the milestone, CosineAnnealingLR.step(0) at it
        // (the closed form at 0), then CosineAnnealingLR.step() with its own last_epoch.
        if epoch < warmup {
            return linearGetLR(previous: lr, epoch: epoch, startFactor: startFactor, endFactor: 1, totalIters: warmup)
        }
        if epoch == warmup {
            return etaMin + (base - etaMin) * (1 + cos(Double.pi * 0 / Double(tMax - warmup))) / 2
        }
        return cosineGetLR(previous: lr, base: base, epoch: epoch - warmup, tMax: tMax - warmup, etaMin: etaMin)
    }
}

/// CosineAnnealingLR.get_lr (constructed with last_epoch=-1, so _step_count == 1 only at epoch 0).
private func cosineGetLR(previous lr: Double, base: Double, epoch: Int, tMax: Int, etaMin: Double) -> Double {
    let t = Double(tMax), e = Double(epoch)
    if epoch == 0 { return lr }
    if (epoch - 1 - tMax) % (2 * tMax) == 0 {
        return lr + (base - etaMin) * (1 - cos(Double.pi / t)) / 2
    }
    return (1 + cos(Double.pi * e / t)) / (1 + cos(Double.pi * (e - 1) / t)) * (lr - etaMin) + etaMin
}

/// LinearLR.get_lr
private func linearGetLR(previous lr: Double, epoch: Int, startFactor: Double, endFactor: Double,
                         totalIters: Int) -> Double {
    if epoch == 0 { return lr * startFactor }
    if epoch > totalIters { return lr }
    return lr * (1 + (endFactor - startFactor)
        / (Double(totalIters) * startFactor + Double(epoch - 1) * (endFactor - startFactor)))
}
