import CKernels
import NN
import TensorCore

/// Clips the gradients to a total 2-norm of at most `maxNorm`, with
/// torch.nn.utils.clip_grad_norm_'s rule, and returns the norm before clipping.
///
///     total_norm = || gradientScale * gradients ||_2      (all parameters as one vector)
///     clip_coef  = maxNorm / (total_norm + 1e-6)
///     gradients *= clip_coef                              (only when clip_coef < 1)
///
/// The norm is that of the gradient the optimizer will use: under data
/// parallelism the buffer holds allreduced sums and the step multiplies them
/// by `gradientScale`, so the norm includes that factor and the stored sums
/// are scaled by `clip_coef` alone. Call it AFTER the allreduce and before
/// `step()`: every rank then holds the same gradients, computes the same bits
/// (the sum of squares is accumulated in Double in a fixed order that depends
/// only on the parameter count) and clips identically, so the replicas stay
/// equal.
///
/// A non-finite norm (a NaN or infinite gradient) is returned and the
/// gradients are left as they are, so the caller decides (skip the step,
/// stop): torch with `error_if_nonfinite=False` would multiply them by 0 or
/// NaN instead, which loses which values were bad. Unlike torch, which sums
/// in Float, the Double sum cannot overflow for finite Float gradients.
@discardableResult
public func clipGradientNorm(_ parameters: ParameterSet, maxNorm: Double, gradientScale: Float = 1) -> Double {
    ensure(maxNorm >= 0 && maxNorm.isFinite, "Maximum gradient norm must be finite and non-negative, got \(maxNorm)")
    ensure(gradientScale.isFinite, "Gradient scale must be finite, got \(gradientScale)")
    let gradients = parameters.gradients
    let totalNorm = ck_sum_squares(gradients.base, gradients.count).squareRoot() * abs(Double(gradientScale))
    guard totalNorm.isFinite else { return totalNorm }
    let clipCoefficient = maxNorm / (totalNorm + 1e-6)
    if clipCoefficient < 1 {
        ck_scale(gradients.base, gradients.count, Float(clipCoefficient))
    }
    return totalNorm
}

extension Optimizer {
    /// `clipGradientNorm(parameters, maxNorm:, gradientScale:)` with this
    /// optimizer's own gradient scale: the norm of the gradient `step()` will use.
    @discardableResult
    public func clipGradientNorm(maxNorm: Double) -> Double {
        Optim.clipGradientNorm(parameters, maxNorm: maxNorm, gradientScale: gradientScale)
    }
}
