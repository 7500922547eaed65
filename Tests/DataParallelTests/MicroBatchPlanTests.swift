import DataParallel
import Testing

@Suite("MicroBatchPlan: the micro-batches of --deterministic")
struct MicroBatchPlanTests {
    @Test("Rank r of W holds the aligned run of M/W micro-batches of B/M samples")
    func layout() throws {
        for worldSize in [1, 2, 4, 8] {
            for rank in 0..<worldSize {
                let plan = try MicroBatchPlan(batchSize: 64, microBatches: 8, rank: rank, worldSize: worldSize)
                #expect(plan.microBatchSize == 8 && plan.localMicroBatches == 8 / worldSize)
                #expect(plan.firstMicroBatch == rank * 8 / worldSize)
            }
        }
    }

    func reason(_ body: () throws -> MicroBatchPlan) -> String {
        do {
            _ = try body()
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test("Refusals name the flag and what would work")
    func refusals() {
        let three = reason { try MicroBatchPlan(batchSize: 63, microBatches: 3, rank: 0, worldSize: 3) }
        #expect(three.contains("--deterministic") && three.contains("power of two"), "\(three)")
        let notPower = reason { try MicroBatchPlan(batchSize: 60, microBatches: 6, rank: 0, worldSize: 2) }
        #expect(notPower.contains("--micro-batches") && notPower.contains("power of two"), "\(notPower)")
        let indivisible = reason { try MicroBatchPlan(batchSize: 60, microBatches: 8, rank: 0, worldSize: 1) }
        #expect(indivisible.contains("--batch-size") && indivisible.contains("60") && indivisible.contains("8"), "\(indivisible)")
        let tooMany = reason { try MicroBatchPlan(batchSize: 64, microBatches: 2, rank: 0, worldSize: 4) }
        #expect(tooMany.contains("--micro-batches") && tooMany.contains("1, 2") && tooMany.contains("--micro-batches 4"),
                "\(tooMany)")
    }
}
