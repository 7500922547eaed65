/// Ops that rearrange elements: reshape, squeeze, unsqueeze, flatten,
/// transpose, permute, slice, concatenate.
extension Tensor {
    /// The same elements in a new shape (one dimension may be -1). Shares memory.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var newShape = newShape
        if let unknown = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
            ensure(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            newShape[unknown] = count / known
        }
        ensure(newShape.reduce(1, *) == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        let out = Tensor(shape: newShape, storage: storage, offset: offset)
        return out.recorded([self]) { [self] g in
            let gx = self.gradData(), pg = g.data
            for i in 0..<g.count { gx[i] += pg[i] }
        }
    }

    /// Removes dimension `axis` if it has size 1 and returns the same shape
    /// otherwise, as PyTorch's `squeeze(dim)` (a no-op there, not an error).
    /// Shares memory.
    public func squeezed(axis: Int) -> Tensor {
        let a = resolve(axis: axis)
        var newShape = shape
        if shape[a] == 1 { newShape.remove(at: a) }
        return reshaped(newShape)
    }

    /// Removes every dimension of size 1 (PyTorch's `squeeze()`). Shares memory.
    public func squeezed() -> Tensor { reshaped(shape.filter { $0 != 1 }) }

    /// Inserts a dimension of size 1 at `axis`, which ranges over
    /// -(rank + 1)...rank because the result has one more dimension
    /// (PyTorch's `unsqueeze(dim)`: -1 appends). Shares memory.
    public func unsqueezed(axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        ensure(a >= 0 && a <= rank,
                     "unsqueezed(axis: \(axis)) on shape \(shape): axis must be in \(-(rank + 1))...\(rank)")
        var newShape = shape
        newShape.insert(1, at: a)
        return reshaped(newShape)
    }

    /// Keeps dimension 0 (the batch) and flattens the rest: [B, ...] -> [B, n].
    public func flattened() -> Tensor {
        ensure(rank >= 1, "flattened() needs at least one dimension")
        return reshaped([shape[0], -1])
    }

    /// Swaps two axes (default: the last two, the matrix transpose). Copies.
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        let a0 = resolve(axis: axis0), a1 = resolve(axis: axis1)
        var outShape = shape
        outShape.swapAt(a0, a1)
        // Strides of the input, read in the output's dimension order.
        var inStrides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { inStrides[d] = inStrides[d + 1] * shape[d + 1] }
        inStrides.swapAt(a0, a1)
        let out = Tensor.uninitialized(outShape)
        Tensor.permuteCopy(from: data, strides: inStrides, to: out.data, shape: outShape, accumulate: false)
        return out.recorded([self]) { [self] g in
            // The gradient is g transposed back, accumulated.
            var gStrides = [Int](repeating: 1, count: rank)
            for d in stride(from: rank - 2, through: 0, by: -1) { gStrides[d] = gStrides[d + 1] * outShape[d + 1] }
            gStrides.swapAt(a0, a1)
            Tensor.permuteCopy(from: g.data, strides: gStrides, to: self.gradData(), shape: self.shape, accumulate: true)
        }
    }

    /// Reorders the dimensions: dimension `d` of the result is dimension
    /// `dims[d]` of `self` (PyTorch's `permute`; negative entries count from
    /// the end). Copies. Backward applies the inverse permutation to the
    /// gradient.
    public func permuted(_ dims: [Int]) -> Tensor {
        ensure(dims.count == rank,
                     "permuted(\(dims)) on shape \(shape): needs one entry per dimension (\(rank)), got \(dims.count)")
        let order = dims.map { $0 < 0 ? $0 + rank : $0 }
        ensure(order.sorted() == Array(0..<rank),
                     "permuted(\(dims)) on shape \(shape): not a permutation of 0..<\(rank)")
        let outShape = order.map { shape[$0] }
        // Strides of the input, read in the output's dimension order.
        let inStrides = Tensor.contiguousStrides(shape)
        let out = Tensor.uninitialized(outShape)
        Tensor.permuteCopy(from: data, strides: order.map { inStrides[$0] }, to: out.data, shape: outShape,
                           accumulate: false)
        return out.recorded([self]) { [self] g in
            // Input dimension order[d] is output dimension d: read g with the
            // inverse permutation to walk it in the input's order.
            let gStrides = Tensor.contiguousStrides(outShape)
            var inverse = [Int](repeating: 0, count: order.count)
            for (d, source) in order.enumerated() { inverse[source] = d }
            Tensor.permuteCopy(from: g.data, strides: inverse.map { gStrides[$0] }, to: self.gradData(),
                               shape: self.shape, accumulate: true)
        }
    }

    /// Row-major element strides of `shape` (the last dimension has stride 1).
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        return strides
    }

    /// Writes (or adds) `source` read with `strides` into contiguous `destination` of `shape`.
    static func permuteCopy(from source: UnsafePointer<Float>, strides: [Int],
                            to destination: UnsafeMutablePointer<Float>, shape: [Int], accumulate: Bool) {
        var o = 0
        Broadcast.forEachRow(shape, strides, strides) { _, si, _, n, step, _ in
            if accumulate {
                for j in 0..<n { destination[o + j] += source[si + j * step] }
            } else {
                for j in 0..<n { destination[o + j] = source[si + j * step] }
            }
            o += n
        }
    }

    /// Elements `range` along `axis` (PyTorch's narrow / x[..., a:b, ...]). Copies.
    public func slice(axis: Int = 0, _ range: Range<Int>) -> Tensor {
        let axis = resolve(axis: axis)
        ensure(range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "slice \(range) out of bounds for axis \(axis) of \(shape)")
        let (outer, length, inner) = Tensor.split(shape, axis: axis)
        var outShape = shape
        outShape[axis] = range.count
        let out = Tensor.uninitialized(outShape)
        let run = range.count * inner
        for o in 0..<outer {
            (out.data + o * run).update(from: data + (o * length + range.lowerBound) * inner, count: run)
        }
        return out.recorded([self]) { [self] g in
            let gx = self.gradData()
            for o in 0..<outer {
                let dst = gx + (o * length + range.lowerBound) * inner, src = g.data + o * run
                for i in 0..<run { dst[i] += src[i] }
            }
        }
    }

    /// Joins `tensors` along `axis`; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        ensure(!tensors.isEmpty, "concatenate needs at least one tensor")
        let first = tensors[0]
        let axis = first.resolve(axis: axis)
        for t in tensors {
            var a = t.shape, b = first.shape
            ensure(a.count == b.count, "concatenate: ranks differ: \(t.shape) vs \(first.shape)")
            a[axis] = 0
            b[axis] = 0
            ensure(a == b, "concatenate: shapes \(t.shape) and \(first.shape) differ outside axis \(axis)")
        }
        var outShape = first.shape
        outShape[axis] = tensors.map { $0.shape[axis] }.reduce(0, +)
        let (outer, total, inner) = Tensor.split(outShape, axis: axis)
        let out = Tensor.uninitialized(outShape)
        var start = 0
        var starts: [Int] = []
        for t in tensors {
            starts.append(start)
            let run = t.shape[axis] * inner
            for o in 0..<outer {
                (out.data + (o * total + start) * inner).update(from: t.data + o * run, count: run)
            }
            start += t.shape[axis]
        }
        return out.recorded(tensors) { g in
            for (t, begin) in zip(tensors, starts) where t.requiresGrad {
                let run = t.shape[axis] * inner, gt = t.gradData()
                for o in 0..<outer {
                    let src = g.data + (o * total + begin) * inner, dst = gt + o * run
                    for i in 0..<run { dst[i] += src[i] }
                }
            }
        }
    }
}
