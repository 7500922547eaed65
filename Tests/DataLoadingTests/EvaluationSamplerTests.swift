import DataLoading
import Testing

@Suite struct EvaluationSamplerTests {
    @Test func shardsPartitionTheDataSetWithoutPadding() {
        for count in [0, 1, 7, 10_000, 10_001] {
            for worldSize in 1...8 {
                let shards = (0..<worldSize).map { EvaluationSampler.shard(count: count, rank: $0, worldSize: worldSize) }
                #expect(shards.flatMap { Array($0) } == Array(0..<count), "count \(count) W \(worldSize)")
                let sizes = shards.map(\.count)
                #expect(sizes.max()! - sizes.min()! <= 1)
            }
        }
        #expect(EvaluationSampler.shard(count: 10, rank: 0, worldSize: 4) == 0..<3)
        #expect(EvaluationSampler.shard(count: 10, rank: 3, worldSize: 4) == 8..<10)
    }

    @Test func batchesWalkTheShardInOrder() throws {
        let sampler = try EvaluationSampler(count: 10_000, batchSize: 300, rank: 2, worldSize: 3)
        #expect(sampler.shard == 6_667..<10_000)
        #expect(sampler.stepsPerEpoch == 12)  // ceil(3333 / 300)
        let batches = (0..<sampler.stepsPerEpoch).map { sampler.indices(epoch: 0, step: $0) }
        #expect(batches.dropLast().allSatisfy { $0.count == 300 })
        #expect(batches.last?.count == 33)
        #expect(batches.flatMap { $0 } == Array(6_667..<10_000))
        #expect(sampler.indices(epoch: 4, step: 1) == batches[1])  // epochs do not matter
    }

    @Test func badConfigurationsThrow() {
        #expect(dataError { _ = try EvaluationSampler(count: 10, batchSize: 0) }?.kind == .invalidConfiguration)
        #expect(dataError { _ = try EvaluationSampler(count: 10, batchSize: 4, rank: 3, worldSize: 3) }?.kind == .invalidConfiguration)
    }
}
