import CKernels

/// Loss kernels with mean reduction, fused forward and backward, matching
/// PyTorch's definitions (`NN` exposes them under their course names).
extension Tensor {
    /// Mean cross-entropy of [N, C] logits against N class labels:
    /// mean(-log_softmax(x)[i, y_i]). Backward: (softmax - onehot) / N.
    public static func crossEntropy(logits: Tensor, labels: [Int32]) -> Tensor {
        ensure(logits.rank == 2 && labels.count == logits.shape[0],
                     "crossEntropy needs [N, C] logits and N labels, got \(logits.shape) and \(labels.count)")
        let (n, c) = (logits.shape[0], logits.shape[1])
        let probabilities = Storage(count: n * c, zeroed: false)
        let px = logits.data, pp = probabilities.base
        var total: Double = 0
        for i in 0..<n {
            let label = Int(labels[i])
            ensure(label >= 0 && label < c, "label \(label) at row \(i) out of range 0..<\(c)")
            let row = px + i * c, prob = pp + i * c
            var m = -Float.infinity
            for j in 0..<c { m = max(m, row[j]) }
            var s: Float = 0
            for j in 0..<c {
                let e = fexp(row[j] - m)
                prob[j] = e
                s += e
            }
            let inv = 1 / s
            for j in 0..<c { prob[j] *= inv }
            total -= Double(row[label] - m - flog(s))
        }
        let out = Tensor(scalar: Float(total / Double(n)))
        return out.recorded([logits]) { g in
            // Read through `probabilities` so the closure keeps the softmax alive.
            let pp = probabilities.base
            let gx = logits.gradData(), scale = g.data[0] / Float(n)
            for i in 0..<n {
                let prob = pp + i * c, dst = gx + i * c
                for j in 0..<c { dst[j] += scale * prob[j] }
                dst[Int(labels[i])] -= scale
            }
        }
    }

    /// Mean binary cross-entropy of probabilities against targets in [0, 1]:
    /// -mean(t log p + (1 - t) log(1 - p)), each log clamped at -100 as PyTorch does.
    public static func binaryCrossEntropy(predicted p: Tensor, expected t: Tensor) -> Tensor {
        ensure(p.shape == t.shape, "binaryCrossEntropy: predicted \(p.shape) and expected \(t.shape) differ")
        let pp = p.data, pt = t.data, n = p.count
        let total = ck_bce_sum(pp, pt, n)
        let out = Tensor(scalar: Float(total / Double(n)))
        return out.recorded([p, t]) { g in
            let scale = g.data[0] / Float(n)
            // PyTorch's rule: (p - t) / max(p (1 - p), 1e-12).
            if p.requiresGrad { ck_bce_backward(pp, pt, p.gradData(), n, scale) }
            if t.requiresGrad {
                let gt = t.gradData()
                for i in 0..<n { gt[i] += scale * (max(flog(1 - pp[i]), -100) - max(flog(pp[i]), -100)) }
            }
        }
    }

    /// Mean squared error: mean((p - t)^2).
    public static func meanSquaredError(predicted p: Tensor, expected t: Tensor) -> Tensor {
        ensure(p.shape == t.shape, "meanSquaredError: predicted \(p.shape) and expected \(t.shape) differ")
        let pp = p.data, pt = t.data, n = p.count
        var total: Double = 0
        for i in 0..<n {
            let d = Double(pp[i] - pt[i])
            total += d * d
        }
        let out = Tensor(scalar: Float(total / Double(n)))
        return out.recorded([p, t]) { g in
            let scale = 2 * g.data[0] / Float(n)
            if p.requiresGrad {
                let gp = p.gradData()
                for i in 0..<n { gp[i] += scale * (pp[i] - pt[i]) }
            }
            if t.requiresGrad {
                let gt = t.gradData()
                for i in 0..<n { gt[i] -= scale * (pp[i] - pt[i]) }
            }
        }
    }
}
