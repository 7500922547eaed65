/// Layer normalisation over the trailing dimensions (PyTorch's F.layer_norm).
///
/// With n the number of elements in `normalizedShape`, per row (every index
/// of the leading dimensions):
///
///     mean   = sum(x) / n,   var = sum((x - mean)^2) / n   (biased, as PyTorch)
///     rstd   = 1 / sqrt(var + eps)
///     xhat   = (x - mean) * rstd
///     y      = weight * xhat + bias                         (weight, bias: normalizedShape)
///
/// and backward (llm.c's layernorm_backward), with dxhat = dy * weight:
///
///     dbias   += sum over rows of dy,    dweight += sum over rows of dy * xhat
///     dx      += rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
///
/// Unlike batch normalisation there are no running statistics and no
/// difference between training and evaluation. The row statistics are
/// accumulated in Double, two passes (mean, then the squared deviations), so
/// a large mean does not cancel the variance.
extension Tensor {
    /// Normalises `x` [*, normalizedShape] over its trailing `normalizedShape`
    /// dimensions and applies the elementwise affine `weight` and `bias`
    /// (shaped `normalizedShape`; either may be nil: 1 and 0).
    public static func layerNorm(_ x: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil,
                                 eps: Float = 1e-5) -> Tensor {
        let k = normalizedShape.count
        ensure(k >= 1 && x.rank >= k && Array(x.shape.suffix(k)) == normalizedShape,
                     "layerNorm: input \(x.shape) must end with normalizedShape \(normalizedShape)")
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let t {
                ensure(t.shape == normalizedShape,
                             "layerNorm: \(name) \(t.shape) must have normalizedShape \(normalizedShape)")
            }
        }
        ensure(eps > 0, "layerNorm eps must be positive, got \(eps)")
        let n = normalizedShape.reduce(1, *)
        ensure(n > 0, "layerNorm: normalizedShape \(normalizedShape) has no elements")
        let rows = x.count / n

        // out is (rows, n); mean and rstd are (rows).
        let out = Tensor.uninitialized(x.shape)
        var mean = [Float](repeating: 0, count: rows)
        var rstd = [Float](repeating: 0, count: rows)
        let px = x.data, py = out.data
        let pw = weight?.data, pb = bias?.data
        for r in 0..<rows {
            let row = px + r * n
            var s: Double = 0
            for i in 0..<n { s += Double(row[i]) }
            let m = s / Double(n)
            var v: Double = 0
            for i in 0..<n {
                let d = Double(row[i]) - m
                v += d * d
            }
            let rs = 1 / (v / Double(n) + Double(eps)).squareRoot()
            mean[r] = Float(m)
            rstd[r] = Float(rs)
            let y = py + r * n
            for i in 0..<n {
                let xhat = Float((Double(row[i]) - m) * rs)
                y[i] = xhat * (pw?[i] ?? 1) + (pb?[i] ?? 0)
            }
        }

        var inputs = [x]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        return out.recorded(inputs) { g in
            let pg = g.data
            let gx = x.requiresGrad ? x.gradData() : nil
            let gw = weight.flatMap { $0.requiresGrad ? $0.gradData() : nil }
            let gb = bias.flatMap { $0.requiresGrad ? $0.gradData() : nil }
            for r in 0..<rows {
                let row = px + r * n, dy = pg + r * n
                let m = mean[r], rs = rstd[r]
                // The two means of dxhat that dx needs.
                var dxhatMean: Float = 0, dxhatXhatMean: Float = 0
                for i in 0..<n {
                    let xhat = (row[i] - m) * rs
                    let dxhat = dy[i] * (pw?[i] ?? 1)
                    dxhatMean += dxhat
                    dxhatXhatMean += dxhat * xhat
                    gb?[i] += dy[i]
                    gw?[i] += dy[i] * xhat
                }
                dxhatMean /= Float(n)
                dxhatXhatMean /= Float(n)
                if let gx {
                    let dx = gx + r * n
                    for i in 0..<n {
                        let xhat = (row[i] - m) * rs
                        let dxhat = dy[i] * (pw?[i] ?? 1)
                        dx[i] += rs * (dxhat - dxhatMean - xhat * dxhatXhatMean)
                    }
                }
            }
        }
    }
}
