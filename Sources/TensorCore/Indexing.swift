/// Taking a tensor apart along one axis and putting pieces together:
/// select (x[:, t]), split, unbind, stack. Each is composed from `slice`,
/// `reshaped` and `concatenate`, whose recorded rules already give the right
/// gradient (a piece's gradient is added back into its place), and costs the
/// one copy that `slice` or `concatenate` makes.
extension Tensor {
    /// The sub-tensor at `index` along `axis`, with that axis removed
    /// (PyTorch's `select(dim, index)`: `x.select(axis: 1, 3)` is `x[:, 3]`).
    /// A negative `index` counts from the end. Copies.
    public func select(axis: Int, _ index: Int) -> Tensor {
        let a = resolve(axis: axis)
        let i = index < 0 ? index + shape[a] : index
        ensure(i >= 0 && i < shape[a],
                     "select(axis: \(axis), \(index)) on shape \(shape): index out of range for size \(shape[a])")
        var outShape = shape
        outShape.remove(at: a)
        return slice(axis: a, i..<(i + 1)).reshaped(outShape)
    }

    /// Pieces of `size` elements along `axis`, in order; the last is smaller
    /// when `size` does not divide the axis (PyTorch's `split(split_size, dim)`).
    /// Each piece is a copy.
    public func split(_ size: Int, axis: Int = 0) -> [Tensor] {
        let a = resolve(axis: axis)
        ensure(size >= 1, "split(\(size), axis: \(axis)) on shape \(shape): the piece size must be at least 1")
        return stride(from: 0, to: shape[a], by: size).map { start in
            slice(axis: a, start..<Swift.min(start + size, shape[a]))
        }
    }

    /// Every sub-tensor along `axis`, with that axis removed (PyTorch's
    /// `unbind(dim)`; the inverse of `stack`). Each is a copy.
    public func unbind(axis: Int = 0) -> [Tensor] {
        let a = resolve(axis: axis)
        return (0..<shape[a]).map { select(axis: a, $0) }
    }

    /// Joins tensors of one shape along a new dimension `axis`, which ranges
    /// over -(rank + 1)...rank of the inputs (PyTorch's `torch.stack`).
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        ensure(!tensors.isEmpty, "stack needs at least one tensor")
        let first = tensors[0]
        for t in tensors {
            ensure(t.shape == first.shape, "stack: shapes \(t.shape) and \(first.shape) differ; all must be equal")
        }
        let a = axis < 0 ? axis + first.rank + 1 : axis
        ensure(a >= 0 && a <= first.rank,
                     "stack(axis: \(axis)) of shape \(first.shape): axis must be in \(-(first.rank + 1))...\(first.rank)")
        return concatenate(tensors.map { $0.unsqueezed(axis: a) }, axis: a)
    }
}
