/// Sums and means over the whole tensor or along one axis.
extension Tensor {
    /// Splits `shape` around `axis` into (outer, length, inner) extents.
    static func split(_ shape: [Int], axis: Int) -> (outer: Int, length: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// Resolves a possibly negative axis (-1 is the last).
    func resolve(axis: Int) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "axis \(axis) out of range for shape \(shape)")
        return a
    }

    /// Sum of all elements (a scalar). Accumulates in Double for accuracy.
    public func sum() -> Tensor {
        var s: Double = 0
        let p = data
        for i in 0..<count { s += Double(p[i]) }
        let out = Tensor(scalar: Float(s))
        return out.recorded([self]) { [self] g in
            let gx = self.gradData(), v = g.data[0]
            for i in 0..<self.count { gx[i] += v }
        }
    }

    /// Mean of all elements (a scalar).
    public func mean() -> Tensor { sum() / Float(count) }

    /// Sum along `axis`; the axis is removed unless `keepDim`.
    public func sum(axis: Int, keepDim: Bool = false) -> Tensor {
        let axis = resolve(axis: axis)
        let (outer, length, inner) = Tensor.split(shape, axis: axis)
        var outShape = shape
        if keepDim { outShape[axis] = 1 } else { outShape.remove(at: axis) }
        let out = Tensor.zeros(outShape)
        let px = data, po = out.data
        for o in 0..<outer {
            for l in 0..<length {
                let src = px + (o * length + l) * inner, dst = po + o * inner
                for i in 0..<inner { dst[i] += src[i] }
            }
        }
        return out.recorded([self]) { [self] g in
            let gx = self.gradData(), pg = g.data
            for o in 0..<outer {
                for l in 0..<length {
                    let dst = gx + (o * length + l) * inner, src = pg + o * inner
                    for i in 0..<inner { dst[i] += src[i] }
                }
            }
        }
    }

    /// Mean along `axis`; the axis is removed unless `keepDim`.
    public func mean(axis: Int, keepDim: Bool = false) -> Tensor {
        sum(axis: axis, keepDim: keepDim) / Float(shape[resolve(axis: axis)])
    }
}
