import DataLoading
import Foundation
import Testing

@Suite struct DataLoaderTests {
    @Test(arguments: [0, 1, 2, 5])
    func batchesCoverTheEpochOnEveryRank(prefetch: Int) throws {
        let dataset = CountingDataset(count: 1_003)
        let worldSize = 4
        var seen: [Int] = []
        for rank in 0..<worldSize {
            let sampler = try DistributedBatchSampler(count: dataset.count, globalBatchSize: 32, rank: rank,
                                                      worldSize: worldSize, seed: 5)
            let loader = DataLoader(dataset: dataset, sampler: sampler, prefetch: prefetch)
            var steps: [Int] = []
            for batch in loader.batches(epoch: 2) {
                steps.append(batch.step)
                #expect(batch.epoch == 2)
                #expect(batch.indices == sampler.indices(epoch: 2, step: batch.step))
                #expect(batch.shape == [batch.count, 2])
                #expect(batch.inputs == batch.indices.flatMap { [Float($0), -Float($0)] })
                #expect(batch.labels == batch.indices.map { Int32($0 % 10) })
                seen += batch.indices
            }
            #expect(steps == Array(0..<32))  // ceil(1003 / 32)
        }
        #expect(seen.sorted() == Array(0..<1_003))
    }

    @Test(arguments: [0, 2, 7])
    func prefetchedBatchesMatchWhatTheSamplerSays(prefetch: Int) throws {
        let train = fashionMNIST.train
        let sampler = try DistributedBatchSampler(count: train.count, globalBatchSize: 256, rank: 1, worldSize: 4,
                                                  seed: 11, dropLast: true)
        let loader = DataLoader(dataset: train, sampler: sampler, prefetch: prefetch)
        var count = 0
        for batch in loader.batches(epoch: 0) {
            #expect(batch.shape == [64, 1, 28, 28])
            #expect(batch.inputs.count == 64 * 784)
            if batch.step % 50 == 0 {
                let expected = loader.batch(epoch: 0, step: batch.step)
                #expect(batch.indices == expected.indices)
                #expect(batch.labels == expected.labels)
                #expect(batch.inputs == expected.inputs)
                #expect(batch.indices == sampler.indices(epoch: 0, step: batch.step))
                let k = 17
                #expect(Array(batch.inputs[(k * 784)..<((k + 1) * 784)]) == train[batch.indices[k]].input)
                #expect(batch.labels[k] == train.label(at: batch.indices[k]))
            }
            count += 1
        }
        #expect(count == 234)  // floor(60000 / 256)
    }

    @Test func lastPartialBatchHasItsOwnShape() throws {
        let test = fashionMNIST.test
        let sampler = try DistributedBatchSampler(count: test.count, globalBatchSize: 64, shuffle: false)
        let loader = DataLoader(dataset: test, sampler: sampler)
        let batches = Array(loader.batches(epoch: 0))
        #expect(batches.count == 157)
        #expect(batches.last?.shape == [16, 1, 28, 28])  // 10000 - 156 * 64
        #expect(batches.last?.indices == Array(9_984..<10_000))
        #expect(batches.first?.labels.first == 9)
    }

    @Test func emptyShareOfTheLastBatchIsAnEmptyBatch() throws {
        let sampler = try DistributedBatchSampler(count: 10, globalBatchSize: 8, rank: 5, worldSize: 8)
        let loader = DataLoader(dataset: CountingDataset(count: 10), sampler: sampler)
        let batches = Array(loader.batches(epoch: 0))
        #expect(batches.map(\.count) == [1, 0])
        #expect(batches[1].shape == [0, 2])
        #expect(batches[1].inputs.isEmpty)
    }

    @Test func resumesFromAStep() throws {
        let sampler = try DistributedBatchSampler(count: 500, globalBatchSize: 50, seed: 2)
        let loader = DataLoader(dataset: CountingDataset(count: 500), sampler: sampler)
        let all = Array(loader.batches(epoch: 1))
        let resumed = Array(loader.batches(epoch: 1, startingAt: 7))
        #expect(resumed.map(\.step) == [7, 8, 9])
        #expect(resumed.map(\.indices) == all[7...].map(\.indices))
        #expect(Array(loader.batches(epoch: 1, startingAt: 10)).isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func abandoningAnIterationStopsTheProducer() throws {
        let train = fashionMNIST.train
        let sampler = try DistributedBatchSampler(count: train.count, globalBatchSize: 64, seed: 3)
        for prefetch in [1, 2, 8] {
            let loader = DataLoader(dataset: train, sampler: sampler, prefetch: prefetch)
            for round in 0..<100 {
                var taken = 0
                for batch in loader.batches(epoch: round) {
                    #expect(batch.step == taken)
                    taken += 1
                    if taken == round % 4 + 1 { break }
                }
                #expect(taken == round % 4 + 1)
            }
            // An iterator dropped before its first batch, and one whose
            // producer is blocked on a full queue while the consumer waits.
            for _ in 0..<20 {
                _ = loader.batches(epoch: 0).makeIterator()
                var iterator = loader.batches(epoch: 0).makeIterator()
                _ = iterator.next()
                Thread.sleep(forTimeInterval: 0.001)
            }
        }
    }

    @Test func finishedIteratorKeepsReturningNil() throws {
        let sampler = try DistributedBatchSampler(count: 10, globalBatchSize: 5)
        let loader = DataLoader(dataset: CountingDataset(count: 10), sampler: sampler)
        var iterator = loader.batches(epoch: 0).makeIterator()
        #expect(iterator.next()?.step == 0)
        #expect(iterator.next()?.step == 1)
        #expect(iterator.next() == nil)
        #expect(iterator.next() == nil)
    }

    @Test func evaluationLoaderWalksItsShardInOrder() throws {
        let test = fashionMNIST.test
        var all: [Int] = []
        for rank in 0..<3 {
            let loader = try DataLoader.evaluation(dataset: test, batchSize: 1_000, rank: rank, worldSize: 3)
            let batches = Array(loader.batches(epoch: 0))
            #expect(batches.map(\.count) == (rank == 0 ? [1_000, 1_000, 1_000, 334] : [1_000, 1_000, 1_000, 333]))
            all += batches.flatMap(\.indices)
        }
        #expect(all == Array(0..<10_000))
    }

    @Test func measuresThroughput() throws {
        let train = fashionMNIST.train.normalized(mean: [0.2860], std: [0.3530])
        let sampler = try DistributedBatchSampler(count: train.count, globalBatchSize: 64, seed: 1)
        for prefetch in [0, 2] {
            let loader = DataLoader(dataset: train, sampler: sampler, prefetch: prefetch)
            var checksum: Float = 0
            var batches = 0
            let seconds = measure {
                for batch in loader.batches(epoch: 0) {
                    checksum += batch.inputs[0]
                    batches += 1
                }
            }
            #expect(batches == 938)
            #expect(checksum.isFinite)
            print("DataLoader prefetch \(prefetch): \(batches) batches of 64 in \(String(format: "%.3f", seconds)) s = "
                + "\(Int(Double(batches) / seconds)) batches/s, \(Int(60_000 / seconds)) samples/s")
        }
    }
}
