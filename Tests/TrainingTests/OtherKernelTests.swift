import Foundation
import TensorCore
import Testing

/// The suite's claims that two different ways of computing give the same
/// bits, re-run under another OpenBLAS kernel than the one this CPU gets.
///
/// Bits of a BLAS call depend on the kernel (its blocking decides the order
/// of the additions) and on the shapes handed to it. A claim that holds only
/// because one kernel happens to add two shapes alike passes on the machine
/// it was written on and fails on another (it happened twice: `--row-blocks`
/// on the Zen kernel, the world-size test on Cooperlake). Running the claims
/// under a second kernel this CPU can execute makes such a claim fail on any
/// developer's machine. Each equality asserted here holds by construction,
/// and the comment beside the original test says why.
extension DataParallelTests {
    /// OpenBLAS kernels this suite may switch to, with the CPU flags each
    /// needs (/proc/cpuinfo). Zen first: it is the kernel whose blocking
    /// broke a claim before, and any AVX2 CPU runs it.
    static let otherKernels: [(name: String, flags: [String])] = [
        ("Zen", ["avx2", "fma"]), ("Haswell", ["avx2", "fma"]), ("Sandybridge", ["avx"]), ("Nehalem", ["sse4_2"]),
    ]

    /// The first of `otherKernels` that this CPU runs and that is not the
    /// kernel OpenBLAS picks by itself here; nil when there is none.
    static let otherKernel: String? = {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        return otherKernels.first { $0.name != BLAS.coreName && $0.flags.allSatisfy(flags.contains) }?.name
    }()

    @Test("Cross-path equalities hold under another BLAS kernel (OPENBLAS_CORETYPE): sharded and unsharded, one bucket and many, --deterministic alone and the default mode, --deterministic at np=1 and np=2 (mlp and cnn)",
          .enabled(if: otherKernel != nil, "no other OpenBLAS kernel that this CPU can execute"))
    func crossPathEqualitiesUnderAnotherKernel() throws {
        let kernel = try #require(Self.otherKernel)
        let variables = ["OPENBLAS_CORETYPE": kernel]
        func run(np: Int, _ flags: [String]) throws -> Outcome {
            let outcome = try train(np: np, flags + ["--checkpoint-every", "0"], variables: variables)
            // The run really used that kernel (checkpoints record it).
            let used = outcome.state.extra["bits_blas"] ?? ""
            try #require(used.hasPrefix(kernel + " "), "OPENBLAS_CORETYPE=\(kernel) but the run used \(used)")
            return outcome
        }
        let mlp = ["--model", "mlp", "--max-steps", "20"]
        expectBitwiseEqual(try run(np: 2, mlp + ["--no-shard-optimizer"]), try run(np: 2, mlp + ["--shard-optimizer"]),
                           "\(kernel): sharded against unsharded")
        expectBitwiseEqual(try run(np: 2, mlp + ["--bucket-mb", "64"]), try run(np: 2, mlp + ["--bucket-mb", "0.01"]),
                           "\(kernel): one bucket against one per parameter")
        let plain = try run(np: 1, mlp)
        let deterministic = try run(np: 1, mlp + ["--deterministic"])
        #expect(plain.parameters == deterministic.parameters && plain.records == deterministic.records,
                "\(kernel): --deterministic alone against the default mode")
        for model in [["--model", "mlp", "--max-steps", "20"], ["--model", "cnn", "--max-steps", "6"]] {
            let flags = model + ["--deterministic", "--micro-batches", "2"]
            expectBitwiseEqual(try run(np: 1, flags), try run(np: 2, flags), "\(kernel): \(model[1]) --deterministic np=2 against np=1")
        }
    }
}
