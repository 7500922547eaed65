import Collective
import Testing

/// Single-process checks: run without mpirun, the world is this process
/// alone, so every reduction returns its input and every broadcast is a copy.
/// Serialized because MPI forbids concurrent collectives on one communicator.
@Suite(.serialized, .disabled(if: Communicator.isUnderMPIRun, "expects a singleton world, not one started by mpirun"))
struct CommunicatorTests {
    @Test func singletonWorldHasOneRank() throws {
        let world = try Communicator.world()
        #expect(world.rank == 0)
        #expect(world.size == 1)
        #expect(world.isRoot)
        #expect(world.supportsConcurrentCalls)
        // A singleton init sets PMIX_RANK; the answer must not change because of it.
        #expect(Communicator.isUnderMPIRun == false)
        try world.barrier()
    }

    @Test func worldIsSafeToGetConcurrently() async throws {
        let ranks = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<32 {
                group.addTask {
                    let world = try Communicator.world()
                    return [world.rank, world.size]
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(ranks.count == 32)
        #expect(ranks.allSatisfy { $0 == [0, 1] })
    }

    @Test func allreduceOnOneRankKeepsValues() throws {
        let world = try Communicator.world()
        var floats: [Float] = [1.5, -2, 0, .greatestFiniteMagnitude]
        try world.allreduceSum(&floats)
        #expect(floats == [1.5, -2, 0, .greatestFiniteMagnitude])

        var doubles: [Double] = [0.1, 1e300]
        try doubles.withUnsafeMutableBufferPointer { try world.allreduceSum($0) }
        #expect(doubles == [0.1, 1e300])

        var counters: [Int64] = [.min, 7, .max]
        try world.allreduceSum(&counters)
        #expect(counters == [.min, 7, .max])

        var maxima: [Double] = [-3, 4]
        try world.allreduceMax(&maxima)
        #expect(maxima == [-3, 4])
        #expect(try world.allreduceMax(2.5) == 2.5)
        #expect(try world.allreduceSum(Int64(41)) == 41)

        var empty: [Float] = []
        try world.allreduceSum(&empty)
        #expect(empty.isEmpty)
    }

    @Test func nonBlockingAllreduceCompletes() throws {
        let world = try Communicator.world()
        var gradients = (0..<100_000).map { Float($0 % 13) - 6 }
        let expected = gradients
        try gradients.withUnsafeMutableBufferPointer { all in
            let first = try world.startAllreduceSum(UnsafeMutableBufferPointer(rebasing: all[..<50_000]))
            let second = try world.startAllreduceSum(UnsafeMutableBufferPointer(rebasing: all[50_000...]))
            while !first.test() {}
            #expect(first.isComplete)
            try first.wait()
            try second.wait()
            try second.wait()
            #expect(second.test())
        }
        #expect(gradients == expected)

        let empty = try world.startAllreduceSum(UnsafeMutableBufferPointer<Float>(start: nil, count: 0))
        #expect(empty.test())
        try empty.wait()
    }

    @Test func broadcastOnOneRankRoundTrips() throws {
        let world = try Communicator.world()
        #expect(try world.broadcast([Float](arrayLiteral: 1, 2.5, -3), root: 0) == [1, 2.5, -3])
        #expect(try world.broadcast([Float](), root: 0) == [])
        #expect(try world.broadcast("résumé ✓ run-7", root: 0) == "résumé ✓ run-7")
        #expect(try world.broadcast("", root: 0) == "")

        var words: [UInt64] = [1, .max, 0xDEAD_BEEF, 0]
        try words.withUnsafeMutableBufferPointer { try world.broadcast($0, root: 0) }
        #expect(words == [1, .max, 0xDEAD_BEEF, 0])

        var signed: [Int64] = [-1, .min]
        try signed.withUnsafeMutableBufferPointer { try world.broadcast($0) }
        #expect(signed == [-1, .min])

        var doubles: [Double] = [.pi, -0.0]
        try doubles.withUnsafeMutableBufferPointer { try world.broadcast($0) }
        #expect(doubles == [.pi, -0.0])

        var bytes: [UInt8] = [0, 255, 7]
        try bytes.withUnsafeMutableBytes { try world.broadcast($0, root: 0) }
        #expect(bytes == [0, 255, 7])
    }

    @Test func invalidRootThrowsMPIError() throws {
        let world = try Communicator.world()
        var values: [Float] = [1]
        let error = try #require(throws: MPIError.self) {
            try values.withUnsafeMutableBufferPointer { try world.broadcast($0, root: 5) }
        }
        #expect(error.function == "MPI_Bcast")
        #expect(error.code != nil)
        #expect(String(describing: error).contains("MPI_Bcast"))
        #expect(String(describing: error).lowercased().contains("root"))
    }
}
