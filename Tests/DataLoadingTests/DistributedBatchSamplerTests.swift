import DataLoading
import TensorCore
import Testing

@Suite struct DistributedBatchSamplerTests {
    @Test(arguments: [false, true])
    func ranksTogetherTakeExactlyTheGlobalBatch(dropLast: Bool) throws {
        for count in [0, 1, 37, 100, 1_000] {
            for worldSize in 1...8 {
                for globalBatchSize in [worldSize, 2 * worldSize, 8 * worldSize, 24] where globalBatchSize % worldSize == 0 {
                    let reference = try DistributedBatchSampler(count: count, globalBatchSize: globalBatchSize,
                                                                seed: 42, dropLast: dropLast)
                    let ranks = try (0..<worldSize).map {
                        try DistributedBatchSampler(count: count, globalBatchSize: globalBatchSize, rank: $0,
                                                    worldSize: worldSize, seed: 42, dropLast: dropLast)
                    }
                    for epoch in 0..<2 {
                        let order = reference.order(epoch: epoch)
                        for step in 0..<reference.stepsPerEpoch {
                            #expect(ranks.allSatisfy { $0.stepsPerEpoch == reference.stepsPerEpoch })
                            let global = Array(order[reference.globalPositions(step: step)])
                            let concatenated = ranks.flatMap { $0.indices(epoch: epoch, step: step) }
                            #expect(concatenated == global, "count \(count) B \(globalBatchSize) W \(worldSize) step \(step)")
                            #expect(reference.indices(epoch: epoch, step: step) == global)
                        }
                    }
                }
            }
        }
    }

    @Test func fullBatchesGiveEveryRankBOverW() throws {
        let ranks = try (0..<4).map {
            try DistributedBatchSampler(count: 1_000, globalBatchSize: 64, rank: $0, worldSize: 4, seed: 1)
        }
        for rank in ranks {
            #expect(rank.localBatchSize == 16)
            #expect(rank.stepsPerEpoch == 16)  // ceil(1000 / 64)
            for step in 0..<15 {
                #expect(rank.positions(step: step) == (step * 64 + rank.rank * 16)..<(step * 64 + rank.rank * 16 + 16))
            }
        }
        // The last global batch has 1000 - 15 * 64 = 40 samples: 10 per rank.
        #expect(ranks.map { $0.positions(step: 15).count } == [10, 10, 10, 10])
    }

    @Test func partialLastBatchIsSplitEvenlyAndContiguously() throws {
        // count 10, B 8, W 8: the last global batch has 2 samples.
        let ranks = try (0..<8).map {
            try DistributedBatchSampler(count: 10, globalBatchSize: 8, rank: $0, worldSize: 8, shuffle: false)
        }
        #expect(ranks[0].stepsPerEpoch == 2)
        #expect(ranks.map { $0.indices(epoch: 0, step: 1) } == [[8], [9], [], [], [], [], [], []])
        // count 45, B 12, W 4: last batch 9 samples as 3, 2, 2, 2.
        let four = try (0..<4).map {
            try DistributedBatchSampler(count: 45, globalBatchSize: 12, rank: $0, worldSize: 4, shuffle: false)
        }
        #expect(four.map { $0.positions(step: 3) } == [36..<39, 39..<41, 41..<43, 43..<45])
    }

    @Test func stepsPerEpochHonoursDropLast() throws {
        let keep = try DistributedBatchSampler(count: 60_000, globalBatchSize: 64, worldSize: 4)
        let drop = try DistributedBatchSampler(count: 60_000, globalBatchSize: 64, worldSize: 4, dropLast: true)
        #expect(keep.stepsPerEpoch == 938)
        #expect(drop.stepsPerEpoch == 937)
        #expect(try DistributedBatchSampler(count: 640, globalBatchSize: 64, dropLast: false).stepsPerEpoch == 10)
        #expect(try DistributedBatchSampler(count: 63, globalBatchSize: 64, dropLast: true).stepsPerEpoch == 0)
        #expect(try DistributedBatchSampler(count: 0, globalBatchSize: 64).stepsPerEpoch == 0)
    }

    @Test(arguments: SampleOrder.Scheme.allCases)
    func orderDependsOnlyOnSeedAndEpoch(scheme: SampleOrder.Scheme) throws {
        let count = 5_000
        let expected = Array(try DistributedBatchSampler(count: count, globalBatchSize: 8, seed: 7, scheme: scheme).order(epoch: 3))
        for worldSize in [1, 2, 4, 8] {
            for rank in 0..<worldSize {
                let sampler = try DistributedBatchSampler(count: count, globalBatchSize: 8, rank: rank,
                                                          worldSize: worldSize, seed: 7, scheme: scheme)
                #expect(Array(sampler.order(epoch: 3)) == expected)
            }
        }
        #expect(expected.sorted() == Array(0..<count))
        if scheme == .drawnPermutation {
            // The order of checkpoints made before the keyed scheme, bit for bit.
            var generator = RandomGenerator(seed: 7, stream: 4)
            #expect(expected == generator.permutation(count))
        }
    }

    @Test(arguments: SampleOrder.Scheme.allCases)
    func epochsAndSeedsChangeTheOrder(scheme: SampleOrder.Scheme) throws {
        let sampler = try DistributedBatchSampler(count: 1_000, globalBatchSize: 10, seed: 3, scheme: scheme)
        let again = try DistributedBatchSampler(count: 1_000, globalBatchSize: 10, seed: 3, scheme: scheme)
        let otherSeed = try DistributedBatchSampler(count: 1_000, globalBatchSize: 10, seed: 4, scheme: scheme)
        let orders = (0..<5).map { Array(sampler.order(epoch: $0)) }
        #expect(Set(orders).count == 5)
        #expect((0..<5).map { Array(again.order(epoch: $0)) } == orders)
        #expect(Array(otherSeed.order(epoch: 0)) != orders[0])
        #expect(orders[0] != Array(0..<1_000))
    }

    /// The keyed order is a bijection for every size, including those just
    /// past a power of two (where cycle walking does the most work), and
    /// looks uniform: over 4,000 epochs, position 0 lands in each tenth
    /// of the data set about equally often.
    @Test func keyedOrderIsAPermutationAndLooksUniform() throws {
        for count in [1, 2, 3, 4, 5, 15, 16, 17, 255, 256, 257, 1_000, 4_097, 65_537] {
            let order = Array(try DistributedBatchSampler(count: count, globalBatchSize: 1, seed: 11).order(epoch: 2))
            #expect(order.sorted() == Array(0..<count), "count \(count)")
        }
        let sampler = try DistributedBatchSampler(count: 1_000, globalBatchSize: 1, seed: 5)
        var tenths = [Int](repeating: 0, count: 10)
        for epoch in 0..<4_000 { tenths[sampler.order(epoch: epoch)[0] / 100] += 1 }
        // 400 expected in each; a binomial's standard deviation here is 19.
        #expect(tenths.allSatisfy { (300...500).contains($0) }, "\(tenths)")
    }

    @Test func aSliceOfAnOrderKeepsItsPositions() throws {
        let order = try DistributedBatchSampler(count: 100, globalBatchSize: 10, seed: 2).order(epoch: 0)
        let slice = order[40..<50]
        #expect(slice.startIndex == 40 && slice.count == 10)
        #expect(Array(slice) == Array(order)[40..<50].map { $0 })
    }

    @Test func noShuffleIsTheNaturalOrder() throws {
        let sampler = try DistributedBatchSampler(count: 100, globalBatchSize: 10, rank: 1, worldSize: 2, shuffle: false)
        #expect(Array(sampler.order(epoch: 5)) == Array(0..<100))
        #expect(sampler.indices(epoch: 5, step: 2) == Array(25..<30))
    }

    @Test func everySampleAppearsOncePerEpoch() throws {
        let ranks = try (0..<3).map {
            try DistributedBatchSampler(count: 1_000, globalBatchSize: 48, rank: $0, worldSize: 3, seed: 9)
        }
        var seen: [Int] = []
        for step in 0..<ranks[0].stepsPerEpoch {
            for rank in ranks { seen += rank.indices(epoch: 1, step: step) }
        }
        #expect(seen.count == 1_000)
        #expect(seen.sorted() == Array(0..<1_000))
    }

    @Test func batchSizeNotDivisibleByWorldSizeThrows() {
        let error = dataError { _ = try DistributedBatchSampler(count: 100, globalBatchSize: 10, rank: 0, worldSize: 4) }
        #expect(error?.kind == .invalidConfiguration)
        let message = error?.description ?? ""
        #expect(message.contains("global batch size 10 is not divisible by world size 4"))
        #expect(message.contains("try 8 or 12"))
    }

    @Test func otherBadConfigurationsThrow() {
        #expect(dataError { _ = try DistributedBatchSampler(count: 10, globalBatchSize: 0) }?.kind == .invalidConfiguration)
        #expect(dataError { _ = try DistributedBatchSampler(count: -1, globalBatchSize: 4) }?.kind == .invalidConfiguration)
        #expect(dataError { _ = try DistributedBatchSampler(count: 10, globalBatchSize: 4, rank: 2, worldSize: 2) }?
            .description.contains("rank 2 is outside 0..<2") == true)
        #expect(dataError { _ = try DistributedBatchSampler(count: 10, globalBatchSize: 4, worldSize: 0) }?.kind == .invalidConfiguration)
    }
}
