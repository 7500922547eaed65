import CKernels

/// Element-wise sums of several buffers in one fixed binary tree, so the
/// result does not depend on who adds: the deterministic gradient reduction
/// adds micro-batch gradients this way on a rank, and the ranks' partial
/// sums the same way across ranks.
public enum TreeSum {
    /// The most buffers one call adds.
    public static let maximumLeaves = Int(CK_TREE_MAX_LEAVES)

    /// `target[range]` = ((leaves[0] + leaves[1]) + (leaves[2] + leaves[3])) + ...
    /// over `range`, in one pass. `leaves.count` must be a power of two up to
    /// `maximumLeaves`; `target` may be one of the leaves.
    public static func sum(_ leaves: [Storage], into target: Storage, _ range: Range<Int>) {
        ensure(!leaves.isEmpty && leaves.count <= maximumLeaves && leaves.count & (leaves.count - 1) == 0,
                     "TreeSum needs a power of two up to \(maximumLeaves) buffers, got \(leaves.count)")
        ensure(range.lowerBound >= 0 && leaves.allSatisfy { range.upperBound <= $0.count } && range.upperBound <= target.count,
                     "TreeSum range \(range) exceeds a buffer")
        guard !range.isEmpty else { return }
        let pointers: [UnsafePointer<Float>?] = leaves.map { UnsafePointer($0.base + range.lowerBound) }
        pointers.withUnsafeBufferPointer { p in
            ck_tree_sum(target.base + range.lowerBound, p.baseAddress, leaves.count, range.count)
        }
    }

    /// `target[0 ..< count]` = the element-wise sum of the `leaves`, each
    /// `count` floats, in a fixed order: the binary tree of `sum(_:into:_:)`
    /// when their number is a power of two up to `maximumLeaves`, else left
    /// to right. `target` may be one of the leaves.
    public static func sum(_ leaves: [UnsafePointer<Float>], into target: UnsafeMutablePointer<Float>, count: Int) {
        ensure(!leaves.isEmpty && count >= 0, "TreeSum needs at least one buffer")
        guard count > 0 else { return }
        let k = leaves.count
        if k <= maximumLeaves && k & (k - 1) == 0 {
            let pointers: [UnsafePointer<Float>?] = leaves
            pointers.withUnsafeBufferPointer { ck_tree_sum(target, $0.baseAddress, k, count) }
            return
        }
        let pointers: [UnsafePointer<Float>?] = leaves
        pointers.withUnsafeBufferPointer { ck_sequential_sum(target, $0.baseAddress, k, count) }
    }
}
