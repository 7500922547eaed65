// A multi-rank check of Collective, run by CollectiveTests under
// `mpirun -np 2` and `-np 4`: a single-process test cannot tell an allreduce
// that sums from one that copies. Each rank prints one line
// "collective-selftest rank R of N ok" and exits 0; on a mismatch it prints
// what differed and aborts every rank with a non-zero code.

import Collective

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one line to standard error (file descriptor 2: the C `stderr`
/// global is shared mutable state to Swift 6).
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// Reports a mismatch on stderr and ends all ranks.
func fail(_ world: Communicator, _ message: String) -> Never {
    printError("collective-selftest rank \(world.rank): \(message)")
    world.abort(errorCode: 3)
}

/// Fails unless `actual == expected`, naming `what`.
func expect<T: Equatable>(_ world: Communicator, _ what: String, _ actual: T, _ expected: T) {
    if actual != expected {
        fail(world, "\(what): got \(actual), expected \(expected)")
    }
}

if CommandLine.arguments.contains("--singleton") {
    do {
        try runSingletonChecks()
        exit(0)
    } catch {
        printError("collective-selftest --singleton: \(error)")
        exit(1)
    }
}

do {
    let world = try Communicator.world()
    let rank = world.rank
    let size = world.size
    guard Communicator.isUnderMPIRun else {
        fail(world, "not started by mpirun (OMPI_COMM_WORLD_SIZE / PMIX_RANK missing)")
    }
    // Sum of ranks 0 ..< size, and of ranks + 1.
    let rankSum = size * (size - 1) / 2

    // Blocking allreduce of rank-dependent values, one per element type.
    var floats: [Float] = [Float(rank), Float(rank + 1), 0.5]
    try world.allreduceSum(&floats)
    expect(world, "Float allreduceSum", floats, [Float(rankSum), Float(rankSum + size), 0.5 * Float(size)])

    var doubles: [Double] = [Double(rank) * 0.25, -1]
    try world.allreduceSum(&doubles)
    expect(world, "Double allreduceSum", doubles, [Double(rankSum) * 0.25, -Double(size)])

    var counters: [Int64] = [Int64(rank) << 40, 1]
    try world.allreduceSum(&counters)
    expect(world, "Int64 allreduceSum", counters, [Int64(rankSum) << 40, Int64(size)])

    expect(world, "Double allreduceMax", try world.allreduceMax(Double(rank) * 1.5), Double(size - 1) * 1.5)

    // A large buffer reduced in several non-blocking buckets, all in flight
    // at once, as the trainer does with its gradient buffer.
    let count = 1 << 20
    let buckets = 4
    var gradients = (0..<count).map { Float(rank) + Float($0 % 7) }
    try gradients.withUnsafeMutableBufferPointer { all in
        let bucketSize = (count + buckets - 1) / buckets
        var requests: [CommunicationRequest] = []
        for start in stride(from: 0, to: count, by: bucketSize) {
            let bucket = UnsafeMutableBufferPointer(rebasing: all[start..<min(start + bucketSize, count)])
            requests.append(try world.startAllreduceSum(bucket))
        }
        _ = requests[0].test()
        for request in requests {
            try request.wait()
        }
    }
    for (index, value) in gradients.enumerated() where value != Float(rankSum + size * (index % 7)) {
        fail(world, "Iallreduce element \(index): got \(value), expected \(rankSum + size * (index % 7))")
    }

    // Broadcasts from rank 0: arrays of different lengths, a string, raw words.
    let weights = try world.broadcast(rank == 0 ? [1.5, -2, 3.25] : [Float](), root: 0)
    expect(world, "broadcast [Float]", weights, [1.5, -2, 3.25])
    let name = try world.broadcast(rank == 0 ? "run-✓-42" : "wrong", root: 0)
    expect(world, "broadcast String", name, "run-✓-42")
    var state: [UInt64] = rank == 0 ? [1, 2, .max, 0xDEAD_BEEF] : [0, 0, 0, 0]
    try state.withUnsafeMutableBufferPointer { try world.broadcast($0, root: 0) }
    expect(world, "broadcast [UInt64]", state, [1, 2, .max, 0xDEAD_BEEF])
    let last = try world.broadcast([Int64(rank)], root: size - 1)
    expect(world, "broadcast from last rank", last, [Int64(size - 1)])

    // The sharded optimizer's data movement: runs of uneven length (one
    // empty) gathered to every rank, to a root, and scattered back.
    let lengths = (0..<size).map { $0 == 1 ? 0 : 3 * ($0 + 1) }
    let bounds = lengths.reduce(into: [0]) { $0.append($0.last! + $1) }
    let runs = (0..<size).map { bounds[$0]..<bounds[$0 + 1] }
    let total = runs.last!.upperBound
    func value(_ i: Int) -> Float { Float(i) * 0.5 - 7 }
    var whole = [Float](repeating: -1, count: total)
    for i in runs[rank] { whole[i] = value(i) }
    try whole.withUnsafeMutableBufferPointer { try world.allgather($0, runs: runs) }
    expect(world, "allgather runs \(runs)", whole, (0..<total).map(value))
    let mine = runs[rank].map { value($0) + Float(rank) }
    var gathered = [Float](repeating: 0, count: rank == size - 1 ? total : 0)
    try mine.withUnsafeBufferPointer { part in
        try gathered.withUnsafeMutableBufferPointer { try world.gather(part, into: $0, runs: runs, root: size - 1) }
    }
    if rank == size - 1 {
        let owner = { (i: Int) in runs.firstIndex { $0.contains(i) }! }
        expect(world, "gather to the last rank", gathered, (0..<total).map { value($0) + Float(owner($0)) })
    }
    let source = rank == 0 ? (0..<total).map { value($0) * 3 } : []
    var received = [Float](repeating: 0, count: runs[rank].count)
    try source.withUnsafeBufferPointer { whole in
        try received.withUnsafeMutableBufferPointer { try world.scatter(whole, into: $0, runs: runs, root: 0) }
    }
    expect(world, "scatter from rank 0", received, runs[rank].map { value($0) * 3 })

    // One machine's ranks: every rank of this test runs here, so the
    // shared-memory split is the world, in the world's order.
    let machine = try world.sharingMemory()
    expect(world, "sharingMemory() size", machine.size, size)
    expect(world, "sharingMemory() rank", machine.rank, rank)
    // A window with parts of different sizes (rank 0 none): each rank writes
    // its own, and after synchronize() reads every other in place.
    let partFloats = { (r: Int) in r == 0 ? 0 : 16 * r }
    let window = try SharedMemoryWindow(communicator: machine, bytes: partFloats(rank) * 4)
    for r in 0..<size {
        let part = window.memory(of: r)
        expect(world, "window part \(r) bytes", part.count, partFloats(r) * 4)
        if part.count > 0 { expect(world, "window part \(r) 64-byte aligned", Int(bitPattern: part.baseAddress) % 64, 0) }
    }
    let own = window.memory(of: rank).bindMemory(to: Float.self)
    for i in own.indices { own[i] = Float(rank * 1000 + i) }
    try window.synchronize()
    for r in 1..<size {
        let seen = Array(window.memory(of: r).bindMemory(to: Float.self))
        expect(world, "rank \(r)'s window part, read in place", seen, (0..<partFloats(r)).map { Float(r * 1000 + $0) })
    }
    try window.synchronize()

    try world.barrier()
    print("collective-selftest rank \(rank) of \(size) ok")
} catch {
    printError("collective-selftest: \(error)")
    exit(2)
}
