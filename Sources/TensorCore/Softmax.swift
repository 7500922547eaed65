/// Softmax, log-softmax and picking one entry per row (labels).
extension Tensor {
    /// log(softmax(x)) along `axis`, computed as x - max - log(sum(exp(x - max)))
    /// so large logits do not overflow.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let axis = resolve(axis: axis)
        let (outer, length, inner) = Tensor.split(shape, axis: axis)
        let out = Tensor.uninitialized(shape)
        let px = data, py = out.data
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var m = -Float.infinity
                for l in 0..<length { m = max(m, px[base + l * inner]) }
                var s: Float = 0
                for l in 0..<length { s += fexp(px[base + l * inner] - m) }
                let lse = m + flog(s)
                for l in 0..<length { py[base + l * inner] = px[base + l * inner] - lse }
            }
        }
        let outStorage = out.storage
        return out.recorded([self]) { [self] g in
            // dx = g - softmax * sum(g) along the axis.
            let gx = self.gradData(), pg = g.data, py = outStorage.base
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * length * inner + i
                    var gs: Float = 0
                    for l in 0..<length { gs += pg[base + l * inner] }
                    for l in 0..<length {
                        let k = base + l * inner
                        gx[k] += pg[k] - fexp(py[k]) * gs
                    }
                }
            }
        }
    }

    /// softmax(x) along `axis` (exp of `logSoftmax`).
    public func softmax(axis: Int = -1) -> Tensor { logSoftmax(axis: axis).exp() }

    /// For a [N, C] tensor and N class indices, the [N] entries x[i, indices[i]].
    public func gather(columns indices: [Int32]) -> Tensor {
        ensure(rank == 2 && indices.count == shape[0],
                     "gather needs [N, C] and N indices, got \(shape) and \(indices.count)")
        let (n, c) = (shape[0], shape[1])
        for (i, j) in indices.enumerated() {
            ensure(j >= 0 && Int(j) < c, "gather: index \(j) at row \(i) out of range 0..<\(c)")
        }
        let out = Tensor.uninitialized([n])
        for i in 0..<n { out.data[i] = data[i * c + Int(indices[i])] }
        return out.recorded([self]) { [self] g in
            let gx = self.gradData()
            for i in 0..<n { gx[i * c + Int(indices[i])] += g.data[i] }
        }
    }
}
