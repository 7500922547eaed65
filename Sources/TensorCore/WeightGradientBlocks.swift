/// Lets a data-parallel trainer send a large weight gradient in pieces while
/// backward is still computing it: `linear`'s backward computes dW = g^T x
/// as one matrix product per block of rows, in the order `blocks(weight)`
/// gives, and reports each block as soon as it is final, so the reduction
/// of the first blocks overlaps the product of the next.
///
/// The layer whose gradient backward produces last (a network's first
/// layer, usually also its largest) would otherwise have nothing to overlap
/// its reduction with. A block's values do not depend on the order the
/// blocks are computed in (each row is the same dot products); whether a
/// product split into blocks gives the bits of the whole one is up to the
/// BLAS, so a run uses the same blocks at every world size.
///
/// `@unchecked Sendable` because a task-local value must be Sendable: the
/// hooks are bound for one synchronous backward pass on one thread.
public final class WeightGradientBlocks: @unchecked Sendable {
    /// The hooks of the backward pass running on this task or thread.
    @TaskLocal public static var current: WeightGradientBlocks?

    /// The row blocks to compute `weight`'s gradient in, in order, or nil
    /// (one product).
    let blocks: (Tensor) -> [Range<Int>]?
    /// Rows `rows` of `weight`'s gradient are final.
    let ready: (Tensor, Range<Int>) -> Void

    public init(blocks: @escaping (Tensor) -> [Range<Int>]?, ready: @escaping (Tensor, Range<Int>) -> Void) {
        self.blocks = blocks
        self.ready = ready
    }

    /// Runs `body` (one backward pass) with these hooks as `current`.
    public func run<T>(_ body: () throws -> T) rethrows -> T {
        try WeightGradientBlocks.$current.withValue(self, operation: body)
    }
}
