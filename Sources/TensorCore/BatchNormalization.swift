import CKernels

/// Sums `values` in place across the processes of a data-parallel job (an
/// allreduce with MPI_SUM), so that every process ends with the same totals.
/// Every process must call it the same number of times, in the same order,
/// with arrays of the same length.
public typealias StatisticsReducer = (_ values: inout [Double]) -> Void

/// Batch normalisation over the channel axis of [N, C, *] inputs (PyTorch's
/// F.batch_norm), with SyncBatchNorm's statistics when given a reducer.
///
/// With M the number of elements per channel (N times the product of the
/// trailing dimensions, summed over ranks), per channel:
///
///     training:  mean = sum(x) / M,   var = sum(x^2) / M - mean^2  (biased)
///     eval:      mean, var = the running estimates
///     xhat = (x - mean) * invstd,     invstd = 1 / sqrt(var + eps)
///     y    = weight * xhat + bias
///
/// and backward (training), with the sums again over every rank's batch:
///
///     dbias   += sum(dy),   dweight += sum(dy * xhat)          (local: the
///                            gradient allreduce sums these like any other)
///     dx      += weight * invstd * (dy - sum(dy) / M - xhat * sum(dy * xhat) / M)
///
/// In eval mode mean and invstd are constants: dx += weight * invstd * dy.
///
/// The per-channel sums are accumulated in Double in a fixed order (eight
/// lanes by position, sample after sample), so the statistics, and with a reducer that adds in rank
/// order the outputs, are the same on every run. One pass of sum and sum of
/// squares instead of two passes is what lets the synchronised version need
/// one reduction; Double keeps its cancellation harmless for activations.
extension Tensor {
    /// Normalises `x` [N, C, *] per channel and applies the affine `weight` [C]
    /// and `bias` [C] (either may be nil: 1 and 0).
    ///
    /// Training: normalises with the batch statistics (over every rank when
    /// `statisticsReducer` is given) and, when given, updates `runningMean` and
    /// `runningVar` [C] in place: `r = (1 - momentum) r + momentum s`, with the
    /// unbiased variance (M / (M - 1)) for `runningVar`. Eval: normalises
    /// with `runningMean` and `runningVar`, which are then required.
    public static func batchNorm(_ x: Tensor, runningMean: Tensor?, runningVar: Tensor?,
                                 weight: Tensor? = nil, bias: Tensor? = nil, training: Bool = false,
                                 momentum: Float = 0.1, eps: Float = 1e-5,
                                 statisticsReducer: StatisticsReducer? = nil) -> Tensor {
        ensure(x.rank >= 2, "batchNorm needs input [batch, channels, ...], got \(x.shape)")
        let (batch, channels) = (x.shape[0], x.shape[1])
        let positions = x.shape[2...].reduce(1, *)  // elements per (sample, channel)
        for (name, t) in [("weight", weight), ("bias", bias), ("runningMean", runningMean), ("runningVar", runningVar)] {
            if let t {
                ensure(t.shape == [channels], "batchNorm: \(name) \(t.shape) for input \(x.shape) with \(channels) channels")
            }
        }
        ensure(training || (runningMean != nil && runningVar != nil),
                     "batchNorm in eval mode needs runningMean and runningVar")
        ensure(eps > 0, "batchNorm eps must be positive, got \(eps)")

        var mean = [Double](repeating: 0, count: channels)
        var invstd = [Double](repeating: 0, count: channels)
        var total: Double = 0  // M, the elements per channel over every rank
        if training {
            // [sum x (C), sum x^2 (C), local count]
            var sums = batchNormChannelSums(x.data, nil, batch: batch, channels: channels, positions: positions)
            sums.append(Double(batch * positions))
            statisticsReducer?(&sums)
            ensure(sums.count == 2 * channels + 1, "batchNorm: the statistics reducer changed the length of the sums")
            total = sums[2 * channels]
            ensure(total > 1, "batchNorm: expected more than 1 value per channel when training, got input \(x.shape)")
            for c in 0..<channels {
                mean[c] = sums[c] / total
                let variance = max(sums[channels + c] / total - mean[c] * mean[c], 0)
                invstd[c] = 1 / (variance + Double(eps)).squareRoot()
                if let runningMean, let runningVar {
                    let m = Double(momentum)
                    runningMean.data[c] = Float((1 - m) * Double(runningMean.data[c]) + m * mean[c])
                    let unbiased = variance * total / (total - 1)
                    runningVar.data[c] = Float((1 - m) * Double(runningVar.data[c]) + m * unbiased)
                }
            }
        } else {
            for c in 0..<channels {
                mean[c] = Double(runningMean!.data[c])
                invstd[c] = 1 / (Double(runningVar!.data[c]) + Double(eps)).squareRoot()
            }
        }

        // y = (x - mean) * scale + bias per channel, scale = weight * invstd
        let out = Tensor.uninitialized(x.shape)
        let px = x.data, py = out.data
        for c in 0..<channels {
            let scale = Float((weight.map { Double($0.data[c]) } ?? 1) * invstd[c])
            let (m, b) = (Float(mean[c]), bias?.data[c] ?? 0)
            for n in 0..<batch {
                let base = (n * channels + c) * positions
                for i in base..<base + positions { py[i] = (px[i] - m) * scale + b }
            }
        }

        let inputs = [x] + [weight, bias].compactMap { $0 }
        return out.recorded(inputs) { g in
            // [sum dy (C), sum dy * xhat (C)], local
            var sums = batchNormChannelSums(g.data, (px, mean, invstd), batch: batch, channels: channels,
                                            positions: positions)
            if let bias, bias.requiresGrad {
                let gb = bias.gradData()
                for c in 0..<channels { gb[c] += Float(sums[c]) }
            }
            if let weight, weight.requiresGrad {
                let gw = weight.gradData()
                for c in 0..<channels { gw[c] += Float(sums[channels + c]) }
            }
            guard x.requiresGrad else { return }
            if training {
                statisticsReducer?(&sums)
                ensure(sums.count == 2 * channels, "batchNorm: the statistics reducer changed the length of the sums")
            }
            let (gx, accumulate) = x.gradientForWriting()
            let pg = g.data
            for c in 0..<channels {
                let k = Float((weight.map { Double($0.data[c]) } ?? 1) * invstd[c])
                let (m, s) = (Float(mean[c]), Float(invstd[c]))
                // training: dx = k (dy - sum(dy) / M - xhat sum(dy xhat) / M); eval: k dy
                let a = training ? Float(sums[c] / total) : 0
                let b = training ? Float(sums[channels + c] / total) : 0
                for n in 0..<batch {
                    let base = (n * channels + c) * positions
                    if accumulate {
                        for i in base..<base + positions { gx[i] += k * (pg[i] - a - (px[i] - m) * s * b) }
                    } else {
                        for i in base..<base + positions { gx[i] = k * (pg[i] - a - (px[i] - m) * s * b) }
                    }
                }
            }
        }
    }

    /// Per-channel sums over v [N, C, P] in Double (CKernels' fixed order):
    /// with `normalise` nil, [sum v (C), sum v^2 (C)]; with (x, mean,
    /// invstd), [sum v (C), sum v * xhat (C)] where xhat = (x - mean) * invstd.
    private static func batchNormChannelSums(_ v: UnsafeMutablePointer<Float>,
                                             _ normalise: (x: UnsafeMutablePointer<Float>, mean: [Double], invstd: [Double])?,
                                             batch: Int, channels: Int, positions: Int) -> [Double] {
        var sums = [Double](repeating: 0, count: 2 * channels)
        if let (x, mean, invstd) = normalise {
            ck_channel_sums(v, x, mean, invstd, batch, channels, positions, &sums)
        } else {
            ck_channel_sums(v, nil, nil, nil, batch, channels, positions, &sums)
        }
        return sums
    }
}
