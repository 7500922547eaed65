/// A Float32 tensor over contiguous row-major memory, with reverse-mode autograd.
///
/// A tensor is a view (`storage`, `offset`, `shape`) so that parameters can be
/// views into one flat buffer. Ops build a new tensor and, when gradients are
/// being recorded, attach one `Node` whose backward rule adds into the inputs'
/// gradients (see `Autograd.swift`).
public final class Tensor {
    /// The dimensions, outermost first. A scalar has shape `[]`.
    public let shape: [Int]
    /// Number of elements (the product of `shape`).
    public let count: Int
    /// The memory this tensor views. Parameter packing re-points it.
    public private(set) var storage: Storage
    /// Index of element 0 within `storage`.
    public private(set) var offset: Int
    /// Whether gradients flow to this tensor. True for parameters; ops set it
    /// on their output when any input requires it and recording is enabled.
    public var requiresGrad: Bool
    /// The accumulated gradient, same shape; nil until backward reaches it.
    public internal(set) var grad: Tensor?
    /// How this tensor was computed; nil for leaves and under `withNoGrad`.
    var node: Node?

    /// A tensor viewing `storage` from `offset`.
    public init(shape: [Int], storage: Storage, offset: Int = 0, requiresGrad: Bool = false) {
        let count = shape.reduce(1, *)
        ensure(shape.allSatisfy { $0 >= 0 }, "Negative dimension in shape \(shape)")
        ensure(offset >= 0 && offset + count <= storage.count,
                     "View of \(count) elements at offset \(offset) exceeds storage of \(storage.count)")
        self.shape = shape
        self.count = count
        self.storage = storage
        self.offset = offset
        self.requiresGrad = requiresGrad
    }

    /// A tensor of `shape` holding `values` (row-major).
    public convenience init(shape: [Int], values: [Float], requiresGrad: Bool = false) {
        let count = shape.reduce(1, *)
        ensure(values.count == count, "Shape \(shape) needs \(count) values, got \(values.count)")
        let storage = Storage(count: count, zeroed: false)
        values.withUnsafeBufferPointer { storage.base.update(from: $0.baseAddress!, count: count) }
        self.init(shape: shape, storage: storage, requiresGrad: requiresGrad)
    }

    /// A 1-D tensor of `values`.
    public convenience init(_ values: [Float], requiresGrad: Bool = false) {
        self.init(shape: [values.count], values: values, requiresGrad: requiresGrad)
    }

    /// A scalar (shape `[]`).
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init(shape: [], values: [scalar], requiresGrad: requiresGrad)
    }

    /// Zeros of `shape`.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, storage: Storage(count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    /// `value` everywhere in `shape`.
    public static func full(_ shape: [Int], _ value: Float, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor.uninitialized(shape)
        t.data.initialize(repeating: value, count: t.count)
        t.requiresGrad = requiresGrad
        return t
    }

    /// Ones of `shape`.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, requiresGrad: requiresGrad)
    }

    /// Uniform in [low, high) from `generator`.
    public static func uniform(_ shape: [Int], low: Float, high: Float,
                               generator: inout RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor.uninitialized(shape)
        for i in 0..<t.count { t.data[i] = generator.uniform(low, high) }
        t.requiresGrad = requiresGrad
        return t
    }

    /// Standard normal times `std` plus `mean`, from `generator`.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                              generator: inout RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor.uninitialized(shape)
        for i in 0..<t.count { t.data[i] = mean + std * generator.normal() }
        t.requiresGrad = requiresGrad
        return t
    }

    /// A tensor whose elements the caller must write before reading.
    package static func uninitialized(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: Storage(count: shape.reduce(1, *), zeroed: false))
    }

    /// Pointer to element 0. Valid while the tensor is alive.
    public var data: UnsafeMutablePointer<Float> { storage.base + offset }

    /// The elements as a buffer, for kernels and custom ops.
    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: data, count: count)
    }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The elements, row-major.
    public var scalars: [Float] { Array(buffer) }

    /// The single element of a one-element tensor.
    public func item() -> Float {
        ensure(count == 1, "item() needs a one-element tensor, got shape \(shape)")
        return data[0]
    }

    /// Whether this tensor was produced by a recorded op (is not a leaf).
    public var isLeaf: Bool { node == nil }

    /// A leaf sharing this tensor's memory, cut off from the graph.
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage, offset: offset)
    }

    /// A deep copy with no graph.
    public func copy() -> Tensor {
        let t = Tensor.uninitialized(shape)
        t.data.update(from: data, count: count)
        return t
    }

    /// Re-points this tensor at `storage` from `offset` (used to pack a
    /// model's parameters into one flat buffer). The shape stays.
    package func rebind(storage: Storage, offset: Int) {
        ensure(offset + count <= storage.count, "rebind past the end of storage")
        self.storage = storage
        self.offset = offset
    }

    /// Makes `gradient` (a view, e.g. into a flat gradient buffer) this
    /// tensor's gradient.
    package func setGradient(_ gradient: Tensor?) {
        if let gradient { ensure(gradient.shape == shape, "gradient shape \(gradient.shape) != \(shape)") }
        grad = gradient
    }

    /// Zeroes the gradient in place (keeps a view into a flat buffer).
    public func zeroGrad() {
        if let grad { grad.data.initialize(repeating: 0, count: grad.count) }
    }

    /// The gradient's memory, created zero-filled on first use. Backward
    /// rules add (`+=`) into it, so a tensor used twice gets both parts.
    package func gradData() -> UnsafeMutablePointer<Float> {
        if let grad { return grad.data }
        let g = Tensor.zeros(shape)
        grad = g
        return g.data
    }

    /// The gradient's memory for a backward rule that writes every element
    /// of its part: on first use it is left unfilled and the rule overwrites
    /// it (`accumulate` false); afterwards the rule adds, as into
    /// `gradData()`. The first part of most activations' gradients then costs
    /// no zero fill and no read of the zeros back (PyTorch's autograd also
    /// assigns a gradient's first part): the fill was 2% of a CNN's step and
    /// the read-back as much again, both over buffers larger than the cache.
    package func gradientForWriting() -> (data: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if let grad { return (grad.data, true) }
        let g = Tensor.uninitialized(shape)
        grad = g
        return (g.data, false)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}
