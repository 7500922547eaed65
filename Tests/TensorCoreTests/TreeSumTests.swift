import Testing
import TensorCore

@Suite("TreeSum: element-wise sums in one fixed binary tree")
struct TreeSumTests {
    /// Values with very different magnitudes, so that another grouping of
    /// the additions gives other bits.
    static func leaves(_ k: Int, count: Int, seed: UInt64) -> [Storage] {
        var generator = RandomGenerator(seed: seed)
        return (0..<k).map { _ in
            let s = Storage(count: count, zeroed: false)
            for i in 0..<count { s.base[i] = generator.uniform(-1, 1) * Float(1 << Int(generator.uniform(0, 20))) }
            return s
        }
    }

    /// The same tree as separate passes, level by level, pair by pair.
    static func levelByLevel(_ leaves: [Storage], count: Int) -> [Float] {
        var level = leaves.map { Array(UnsafeBufferPointer(start: $0.base, count: count)) }
        while level.count > 1 {
            level = stride(from: 0, to: level.count, by: 2).map { p in zip(level[p], level[p + 1]).map { $0 + $1 } }
        }
        return level[0]
    }

    @Test("Bitwise the pairwise tree ((l0 + l1) + (l2 + l3)) + ..., for 1 to 64 leaves and lengths around the block size",
          arguments: [1, 2, 4, 8, 16, 64])
    func matchesPairwiseTree(k: Int) {
        for count in [1, 63, 64, 65, 1000] {
            let leaves = Self.leaves(k, count: count, seed: UInt64(k * 1000 + count))
            let target = Storage(count: count)
            TreeSum.sum(leaves, into: target, 0..<count)
            #expect(Array(target.buffer) == Self.levelByLevel(leaves, count: count), "k=\(k), count=\(count)")
        }
    }

    @Test("Close to the exact sum (a Double reference), and another grouping does differ in the last bits")
    func closeToDoubleReference() {
        let count = 4096
        let leaves = Self.leaves(8, count: count, seed: 7)
        let target = Storage(count: count)
        TreeSum.sum(leaves, into: target, 0..<count)
        var sequentialDiffers = false
        for i in 0..<count {
            let exact = leaves.reduce(0.0) { $0 + Double($1.base[i]) }
            // Three levels of additions, each off by at most half an ulp of its result.
            let magnitude = leaves.reduce(0.0) { $0 + abs(Double($1.base[i])) }
            #expect(abs(Double(target.base[i]) - exact) <= 3 * Double(Float.ulpOfOne) * magnitude)
            let sequential = leaves.dropFirst().reduce(leaves[0].base[i]) { $0 + $1.base[i] }
            if sequential != target.base[i] { sequentialDiffers = true }
        }
        #expect(sequentialDiffers, "the test data should make the order of additions visible")
    }

    @Test("Only the range is written, and the target may be one of the leaves (in place)")
    func rangeAndInPlace() {
        let count = 300
        let leaves = Self.leaves(4, count: count, seed: 3)
        let expected = Self.levelByLevel(leaves, count: count)
        let untouched = Array(leaves[3].buffer)
        TreeSum.sum(leaves, into: leaves[3], 100..<250)
        for i in 0..<count {
            #expect(leaves[3].base[i] == ((100..<250).contains(i) ? expected[i] : untouched[i]), "element \(i)")
        }
    }

    @Test("The pointer form: the tree for a power of two, left to right otherwise, into any of the leaves",
          arguments: [1, 2, 3, 4, 5, 7, 8])
    func pointerForm(k: Int) {
        for count in [1, 63, 64, 65, 1000] {
            for targetLeaf in 0..<k {
                let leaves = Self.leaves(k, count: count, seed: UInt64(k * 7919 + count))
                let expected = k & (k - 1) == 0
                    ? Self.levelByLevel(leaves, count: count)
                    : (0..<count).map { i in leaves.dropFirst(2).reduce(leaves[0].base[i] + leaves[1].base[i]) { $0 + $1.base[i] } }
                // The pointers outlive nothing: the storages must live until the result is read.
                withExtendedLifetime(leaves) {
                    TreeSum.sum(leaves.map { UnsafePointer($0.base) }, into: leaves[targetLeaf].base, count: count)
                    #expect(Array(leaves[targetLeaf].buffer) == expected, "k=\(k), count=\(count), into leaf \(targetLeaf)")
                }
            }
        }
    }
}
