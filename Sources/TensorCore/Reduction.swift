/// Sums, means and argmax over the whole tensor or along one axis.
extension Tensor {
    /// Splits `shape` around `axis` into (outer, length, inner) extents.
    static func split(_ shape: [Int], axis: Int) -> (outer: Int, length: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// `shape` after reducing `axis`: removed, or kept as 1 with `keepDim`.
    static func reduced(_ shape: [Int], axis: Int, keepDim: Bool) -> [Int] {
        var result = shape
        if keepDim { result[axis] = 1 } else { result.remove(at: axis) }
        return result
    }

    /// Resolves a possibly negative axis (-1 is the last).
    func resolve(axis: Int) -> Int {
        let a = axis < 0 ? axis + rank : axis
        ensure(a >= 0 && a < rank, "axis \(axis) out of range for shape \(shape)")
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
        let out = Tensor.zeros(Tensor.reduced(shape, axis: axis, keepDim: keepDim))
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

    /// The index of the largest element along `axis`, as a Float tensor of
    /// integral values (every tensor here is Float32; indices are exact up
    /// to 2^24); the axis is removed unless `keepDim` (PyTorch's
    /// `argmax(dim, keepdim)`). Ties go to the first maximum and a NaN counts
    /// as the maximum (its first occurrence), as in PyTorch. Not
    /// differentiable: the result never requires a gradient.
    public func argmax(axis: Int, keepDim: Bool = false) -> Tensor {
        let axis = resolve(axis: axis)
        let (outer, length, inner) = Tensor.split(shape, axis: axis)
        ensure(length > 0, "argmax(axis: \(axis)) on shape \(shape): the axis is empty")
        let out = Tensor.uninitialized(Tensor.reduced(shape, axis: axis, keepDim: keepDim))
        let px = data, po = out.data
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var best = 0, bestValue = px[base]
                for l in 1..<length where !bestValue.isNaN {
                    let v = px[base + l * inner]
                    if v > bestValue || v.isNaN {
                        best = l
                        bestValue = v
                    }
                }
                po[o * inner + i] = Float(best)
            }
        }
        return out
    }

    /// The index of the largest element of the flattened tensor (PyTorch's
    /// `argmax()` without a dim), as a Float scalar; ties and NaN as
    /// `argmax(axis:)`.
    public func argmax() -> Tensor {
        ensure(count > 0, "argmax() on shape \(shape): the tensor is empty")
        return reshaped([count]).argmax(axis: 0)
    }
}
