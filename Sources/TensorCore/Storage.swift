import CKernels

/// A 64-byte aligned block of Float32 that tensors view.
///
/// Several tensors may view one storage at different offsets: the parameters of
/// a model all live in one contiguous block, so that the optimizer step, the
/// gradient allreduce and the checkpoint each work on flat memory.
public final class Storage {
    /// First element of the block.
    public let base: UnsafeMutablePointer<Float>
    /// Number of Float32 elements in the block.
    public let count: Int

    /// The allocator's thresholds, set once before the first block
    /// (`ck_keep_freed_memory`): a step's activations and gradients reuse
    /// freed memory instead of new pages from the kernel each time.
    private static let allocatorTuned: Void = ck_keep_freed_memory()

    /// A new block of `count` elements, zero-filled when `zeroed`.
    public init(count: Int, zeroed: Bool = true) {
        ensure(count >= 0, "Storage count must be non-negative, got \(count)")
        Self.allocatorTuned
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        owner = nil
        if zeroed { base.initialize(repeating: 0, count: count) }
    }

    /// Memory that `owner` allocated and frees; nil for a block of its own.
    private let owner: AnyObject?

    /// A view of `count` elements at `base`, memory this storage neither
    /// allocated nor frees: `owner` (kept alive as long as the storage) owns
    /// it. For example a shared-memory window, in which the ranks of one
    /// machine hold their parameters and gradients.
    public init(borrowing base: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        ensure(count >= 0, "Storage count must be non-negative, got \(count)")
        ensure(Int(bitPattern: base) % 64 == 0, "borrowed storage at \(base) is not 64-byte aligned")
        self.base = base
        self.count = count
        self.owner = owner
    }

    deinit {
        if owner == nil { UnsafeMutableRawPointer(base).deallocate() }
    }

    /// Whether every element is finite (no NaN, no infinity): one
    /// vectorised pass, cheap enough to run on the gradients every step.
    public var allFinite: Bool { ck_all_finite(base, count) == 1 }

    /// Whether every element of `range` is finite.
    public func allFinite(in range: Range<Int>) -> Bool {
        ensure(range.lowerBound >= 0 && range.upperBound <= count, "range \(range) outside \(count) elements")
        return ck_all_finite(base + range.lowerBound, range.count) == 1
    }

    /// The whole block as a buffer.
    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: base, count: count)
    }
}
