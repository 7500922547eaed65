import Checkpoint
import DataLoading
import Foundation
import ModelZoo
import Testing

/// A checkpoint records the order its run drew samples in
/// (`sample_order`); a resume continues in that order, whichever it is.
@Suite("Sample order on resume")
final class SampleOrderResumeTests {
    let scratch: URL

    init() throws { scratch = try TestSupport.temporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    /// The indices a run trained on after resuming from step 10 of a
    /// 20-step run whose step-10 checkpoint `craft` edits, and the step-20
    /// checkpoint it writes.
    func resumedIndices(_ name: String, craft: (inout TrainingState) -> Void) throws -> (indices: [Int], saved: TrainingState) {
        let run = try RunFolder.finishedMLP(scratch, name)
        for file in [run.checkpoint(20), run.checkpoints + "/latest"] { try FileManager.default.removeItem(atPath: file) }
        var state = try CheckpointFile.read(run.checkpoint(10))
        craft(&state)
        try CheckpointFile.write(state, to: run.checkpoint(10))
        let log = scratch.appendingPathComponent("\(name)-samples").path
        let out = try TestSupport.runTrainer(np: 1, run.command + ["--max-steps", "20", "--record-samples", log],
                                             log: run.log("again"))
        try #require(out.status == 0, "\(out.stdout)")
        let data = try Data(contentsOf: URL(fileURLWithPath: log + ".rank0"))
        let indices = data.withUnsafeBytes { $0.bindMemory(to: Int32.self).map { Int(Int32(littleEndian: $0)) } }
        return (indices, try CheckpointFile.read(run.checkpoint(20)))
    }

    /// Steps 10..<20 of epoch 0 as `scheme` orders Fashion-MNIST's 60,000
    /// training images for `state`'s seed and batch.
    func expected(_ scheme: SampleOrder.Scheme, _ state: TrainingState) throws -> [Int] {
        let sampler = try DistributedBatchSampler(count: 60_000, globalBatchSize: state.batchSize, seed: state.seed,
                                                  dropLast: true, scheme: scheme)
        return (10..<20).flatMap { sampler.indices(epoch: 0, step: $0) }
    }

    @Test("A checkpoint of this version resumes in the keyed order and says so; one without sample_order (made before it) resumes in the older drawn permutation, exactly where it left off, and its next checkpoints keep that order; an unknown order is refused",
          .enabled(if: TestSupport.canRunRestartTests, "needs mpirun, Fashion-MNIST and the trainer"))
    func resumeKeepsTheCheckpointsOrder() throws {
        let keyed = try resumedIndices("keyed") { _ in }
        #expect(keyed.saved.extra["sample_order"] == SampleOrder.Scheme.keyedBijection.rawValue)
        #expect(keyed.indices == (try expected(.keyedBijection, keyed.saved)))

        let legacy = try resumedIndices("legacy") { $0.extra["sample_order"] = nil }
        #expect(legacy.saved.extra["sample_order"] == SampleOrder.Scheme.drawnPermutation.rawValue)
        #expect(legacy.indices == (try expected(.drawnPermutation, legacy.saved)))
        #expect(legacy.indices != keyed.indices)

        try RunFolder.expectCraftedResumesRefused(scratch, [
            ("unknown-order", { $0.extra["sample_order"] = "from-the-future" }, "sample order: the checkpoint's run draws its samples in the order 'from-the-future'"),
        ])
    }
}
