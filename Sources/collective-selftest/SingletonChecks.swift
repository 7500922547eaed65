import Collective
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The single-process checks (`collective-selftest --singleton`, no mpirun):
/// the world is this process alone, so every reduction returns its input and
/// every broadcast is a copy. They run in a process of their own because a
/// singleton MPI_Init forks a daemon that keeps the caller's file
/// descriptors, which must not happen inside the test runner while it
/// spawns other processes. Prints "singleton <check> ok" per check.
func runSingletonChecks() throws {
    guard !Communicator.isUnderMPIRun else {
        printError("collective-selftest --singleton: run it without mpirun")
        exit(2)
    }
    let world = try Communicator.world()
    expect(world, "rank", world.rank, 0)
    expect(world, "size", world.size, 1)
    expect(world, "MPI_THREAD_MULTIPLE", world.supportsConcurrentCalls, true)
    // A singleton init sets PMIX_RANK; the answer must not change because of it.
    expect(world, "isUnderMPIRun after init", Communicator.isUnderMPIRun, false)
    try world.barrier()
    print("singleton world ok")

    // world() from many threads at once returns the same world.
    let seen = Mutex([[Int]]())
    DispatchQueue.concurrentPerform(iterations: 32) { _ in
        let world = try? Communicator.world()
        seen.withLock { $0.append([world?.rank ?? -1, world?.size ?? -1]) }
    }
    expect(world, "concurrent world()", seen.withLock { $0 }, Array(repeating: [0, 1], count: 32))
    print("singleton concurrent-world ok")

    var floats: [Float] = [1.5, -2, 0, .greatestFiniteMagnitude]
    try world.allreduceSum(&floats)
    expect(world, "Float allreduceSum", floats, [1.5, -2, 0, .greatestFiniteMagnitude])
    var counters: [Int64] = [.min, 7, .max]
    try world.allreduceSum(&counters)
    expect(world, "Int64 allreduceSum", counters, [.min, 7, .max])
    expect(world, "allreduceMax", try world.allreduceMax(2.5), 2.5)
    var empty: [Float] = []
    try world.allreduceSum(&empty)
    expect(world, "empty allreduce", empty, [])
    print("singleton allreduce ok")

    var gradients = (0..<100_000).map { Float($0 % 13) - 6 }
    let expected = gradients
    try gradients.withUnsafeMutableBufferPointer { all in
        let first = try world.startAllreduceSum(UnsafeMutableBufferPointer(rebasing: all[..<50_000]))
        let second = try world.startAllreduceSum(UnsafeMutableBufferPointer(rebasing: all[50_000...]))
        while !first.test() {}
        try first.wait()
        try second.wait()
    }
    expect(world, "Iallreduce buckets", gradients, expected)
    print("singleton iallreduce ok")

    expect(world, "broadcast [Float]", try world.broadcast([Float](arrayLiteral: 1, 2.5, -3), root: 0), [1, 2.5, -3])
    expect(world, "broadcast String", try world.broadcast("résumé ✓ run-7", root: 0), "résumé ✓ run-7")
    var words: [UInt64] = [1, .max, 0xDEAD_BEEF, 0]
    try words.withUnsafeMutableBufferPointer { try world.broadcast($0, root: 0) }
    expect(world, "broadcast UInt64", words, [1, .max, 0xDEAD_BEEF, 0])
    print("singleton broadcast ok")

    var values: [Float] = [1]
    do {
        try values.withUnsafeMutableBufferPointer { try world.broadcast($0, root: 5) }
        fail(world, "broadcast from root 5 of a 1-rank world did not throw")
    } catch let error as MPIError {
        expect(world, "MPIError.function", error.function, "MPI_Bcast")
        expect(world, "MPIError names the root", String(describing: error).lowercased().contains("root"), true)
    }
    print("singleton mpi-error ok")
}
