import TensorCore

/// A model's parameters packed into ONE contiguous buffer, with their
/// gradients in a second one, each parameter a named view into both.
///
/// The optimizer step is then one loop over flat memory, the gradient
/// allreduce a few calls on contiguous buckets, and a checkpoint a simple
/// write. Creating the set re-points every parameter of the module at the
/// flat buffer (values are kept).
public final class ParameterSet {
    /// Dotted names in registration order (PyTorch state_dict order).
    public let names: [String]
    /// The parameter tensors (views into `values`).
    public let tensors: [Tensor]
    /// Start of each parameter in the flat buffers.
    public let offsets: [Int]
    /// All parameter values, contiguous.
    public private(set) var values: Storage
    /// All gradients, contiguous, same layout as `values`.
    public private(set) var gradients: Storage

    public init(_ module: any Module) {
        let named = module.namedParameters()
        names = named.map(\.name)
        tensors = named.map(\.tensor)
        var offsets: [Int] = []
        var total = 0
        for t in tensors {
            offsets.append(total)
            total += t.count
        }
        self.offsets = offsets
        values = Storage(count: total, zeroed: false)
        gradients = Storage(count: total)
        for (t, offset) in zip(tensors, offsets) {
            (values.base + offset).update(from: t.data, count: t.count)
            t.rebind(storage: values, offset: offset)
            t.setGradient(Tensor(shape: t.shape, storage: gradients, offset: offset))
        }
    }

    /// Number of Float32 parameters.
    public var count: Int { values.count }

    /// Sets every gradient to zero (one memset).
    public func zeroGrad() { gradients.base.initialize(repeating: 0, count: gradients.count) }

    /// Makes backward add into `storage` (laid out as `gradients`) instead of
    /// `gradients`: the deterministic reduction runs each micro-batch's
    /// backward into a buffer of its own, to add the buffers in a fixed tree
    /// order. `redirectGradients(to: gradients)` restores the usual target.
    public func redirectGradients(to storage: Storage) {
        ensure(storage.count == gradients.count,
                     "gradient buffer of \(storage.count) elements for \(gradients.count) parameters")
        for (t, offset) in zip(tensors, offsets) {
            t.setGradient(Tensor(shape: t.shape, storage: storage, offset: offset))
        }
    }

    /// Moves the set into `values` and `gradients` (laid out as the set's
    /// own buffers): every parameter, and its gradient, becomes a view of
    /// them. Copies nothing: the caller fills `values` first. For the ranks
    /// of one machine, which hold one copy of the parameters in shared
    /// memory and their gradients where their peers can read them.
    public func move(values: Storage, gradients: Storage) {
        ensure(values.count == count && gradients.count == count,
               "buffers of \(values.count) and \(gradients.count) elements for \(count) parameters")
        self.values = values
        self.gradients = gradients
        for (t, offset) in zip(tensors, offsets) {
            t.rebind(storage: values, offset: offset)
            t.setGradient(Tensor(shape: t.shape, storage: gradients, offset: offset))
        }
    }

    /// The index of the parameter named `name`.
    public func index(of name: String) -> Int? { names.firstIndex(of: name) }

    /// The element range of parameter `index` within the flat buffers.
    public func range(of index: Int) -> Range<Int> { offsets[index]..<offsets[index] + tensors[index].count }
}
