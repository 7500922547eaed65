/// A group of processes that exchange data: for data-parallel training, the
/// world of every rank that mpirun started.
///
/// Each rank computes gradients on its own shard, `allreduceSum` adds them up
/// (one call, or a few buckets with `startAllreduceSum`, over the contiguous
/// gradient buffer), and `broadcast` makes every rank start from rank 0's
/// parameters. Run without mpirun, the world is this process alone (size 1)
/// and every collective is a copy, so the same training code runs either way.
///
/// All calls are collective: every rank must make the same calls in the
/// same order, or the program hangs.
public struct Communicator: Sendable {
    /// This process's index, 0 ..< size.
    public let rank: Int
    /// How many processes take part.
    public let size: Int
    /// Whether MPI granted MPI_THREAD_MULTIPLE, so that several threads may
    /// call MPI at once (requested always; granted by this machine's OpenMPI).
    public let supportsConcurrentCalls: Bool
    /// Whether this is rank 0, the one that logs and writes checkpoints.
    public var isRoot: Bool { rank == 0 }

    let handle: CommunicatorHandle

    /// The world communicator. The first call in the process initialises MPI
    /// (MPI_Init_thread with MPI_THREAD_MULTIPLE, errors returned as codes,
    /// MPI_Finalize registered for process exit); later calls, from any
    /// thread, return the same world. Throws if MPI was already finalized.
    public static func world() throws -> Communicator {
        let info = try MPIRuntime.initializeWorld()
        return Communicator(rank: info.rank, size: info.size, supportsConcurrentCalls: info.threadMultiple,
                            handle: .world)
    }

    /// Whether this process was started by mpirun (OMPI_COMM_WORLD_SIZE or
    /// PMIX_RANK set), read before MPI was initialised because a singleton
    /// initialisation sets PMIX_RANK itself.
    public static var isUnderMPIRun: Bool {
        MPIRuntime.launchedByMPIRun
    }

    private init(rank: Int, size: Int, supportsConcurrentCalls: Bool, handle: CommunicatorHandle) {
        self.rank = rank
        self.size = size
        self.supportsConcurrentCalls = supportsConcurrentCalls
        self.handle = handle
    }

    // MARK: Machines

    /// The ranks of this communicator that run on this rank's machine and
    /// can therefore share memory with it (MPI_COMM_TYPE_SHARED), in this
    /// communicator's order. Collective.
    public func sharingMemory() throws -> Communicator {
        try Communicator(MPI.splitSharingMemory(handle), supportsConcurrentCalls: supportsConcurrentCalls)
    }

    /// The ranks that pass the same `color`, ordered by `key`. Collective.
    public func split(color: Int, key: Int) throws -> Communicator {
        try Communicator(MPI.split(handle, color: color, key: key), supportsConcurrentCalls: supportsConcurrentCalls)
    }

    private init(_ handle: CommunicatorHandle, supportsConcurrentCalls: Bool) throws {
        let (rank, size) = try MPI.rankAndSize(handle)
        self.init(rank: rank, size: size, supportsConcurrentCalls: supportsConcurrentCalls, handle: handle)
    }

    // MARK: Synchronisation

    /// Waits until every rank has called `barrier()`.
    public func barrier() throws {
        try MPI.barrier(handle)
    }

    /// Ends every rank at once with `errorCode`; for a rank that finds an
    /// error the others cannot know about (they would wait forever).
    public func abort(errorCode: Int32 = 1) -> Never {
        MPI.abort(handle, code: errorCode)
    }

    // MARK: Broadcast

    /// Overwrites `buffer` on every rank with its contents on `root`; every
    /// rank must pass the same count.
    public func broadcast<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int = 0) throws {
        try MPI.broadcast(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count,
                          type: T.collectiveElementType, root: root, handle)
    }

    /// Overwrites `bytes` on every rank with its contents on `root`.
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int = 0) throws {
        try MPI.broadcast(bytes.baseAddress, count: bytes.count, type: .uint8, root: root, handle)
    }

    /// `root`'s `values`, on every rank; other ranks' arguments are ignored
    /// and may have any length (the length is sent first).
    public func broadcast<T: CollectiveElement>(_ values: [T], root: Int = 0) throws -> [T] {
        var count = Int64(values.count)
        try withUnsafeMutablePointer(to: &count) { pointer in
            try broadcast(UnsafeMutableBufferPointer(start: pointer, count: 1), root: root)
        }
        var result = rank == root ? values : [T](repeating: .zero, count: Int(count))
        try result.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
        return result
    }

    /// `root`'s `text`, on every rank (sent as its UTF-8 length, then bytes);
    /// for example a run name or a configuration.
    public func broadcast(_ text: String, root: Int = 0) throws -> String {
        let bytes = try broadcast(Array(text.utf8), root: root)
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Allreduce

    /// Replaces `buffer` on every rank with the element-wise sum over all
    /// ranks (in place, no second buffer).
    public func allreduceSum<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>) throws {
        guard !buffer.isEmpty else { return }
        try MPI.allreduce(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count,
                          type: T.collectiveElementType, .sum, handle)
    }

    /// Replaces `values` on every rank with the element-wise sum over all ranks.
    public func allreduceSum<T: CollectiveElement>(_ values: inout [T]) throws {
        try values.withUnsafeMutableBufferPointer { try allreduceSum($0) }
    }

    /// The sum of `value` over all ranks, e.g. a loss or a correct-answer count.
    public func allreduceSum<T: CollectiveElement>(_ value: T) throws -> T {
        var values = [value]
        try allreduceSum(&values)
        return values[0]
    }

    /// Replaces `buffer` on every rank with the element-wise maximum over all ranks.
    public func allreduceMax<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>) throws {
        guard !buffer.isEmpty else { return }
        try MPI.allreduce(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count,
                          type: T.collectiveElementType, .max, handle)
    }

    /// Replaces `values` on every rank with the element-wise maximum over all ranks.
    public func allreduceMax<T: CollectiveElement>(_ values: inout [T]) throws {
        try values.withUnsafeMutableBufferPointer { try allreduceMax($0) }
    }

    /// The maximum of `value` over all ranks, e.g. the slowest step time.
    public func allreduceMax<T: CollectiveElement>(_ value: T) throws -> T {
        var values = [value]
        try allreduceMax(&values)
        return values[0]
    }

    /// Starts summing `buffer` in place across all ranks and returns at once,
    /// so the reduction of one gradient bucket overlaps other work.
    ///
    /// `buffer` must stay allocated and untouched until the request's
    /// `wait()` returns or `test()` answers true.
    public func startAllreduceSum<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>) throws
        -> CommunicationRequest
    {
        guard !buffer.isEmpty else { return CommunicationRequest(handle: .completed) }
        let request = try MPI.startAllreduce(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count,
                                             type: T.collectiveElementType, .sum, handle)
        return CommunicationRequest(handle: request)
    }

    // MARK: Sharded data (ZeRO): allgather, gather, scatter

    /// Each rank's run `runs[rank]` of `buffer` copied into every rank's
    /// `buffer` (in place); the runs must not overlap.
    public func allgather<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, runs: [Range<Int>]) throws {
        precondition(runs.count == size && runs.allSatisfy { $0.lowerBound >= 0 && $0.upperBound <= buffer.count },
                     "allgather runs \(runs) for \(buffer.count) elements over \(size) ranks")
        try MPI.allgather(UnsafeMutableRawPointer(buffer.baseAddress), counts: runs.map(\.count),
                          displacements: runs.map(\.lowerBound), type: T.collectiveElementType, handle)
    }

    /// Every rank's `part` into `whole` on `root`, rank r's at `runs[r]`
    /// (`whole` is ignored on the other ranks and may be empty there).
    public func gather<T: CollectiveElement>(_ part: UnsafeBufferPointer<T>, into whole: UnsafeMutableBufferPointer<T>,
                                             runs: [Range<Int>], root: Int = 0) throws {
        precondition(runs.count == size && part.count == runs[rank].count, "gather of \(part.count) elements into runs \(runs)")
        precondition(rank != root || runs.allSatisfy { $0.upperBound <= whole.count }, "gather runs \(runs) past \(whole.count)")
        try MPI.gather(UnsafeRawPointer(part.baseAddress), count: part.count, into: UnsafeMutableRawPointer(whole.baseAddress),
                       counts: runs.map(\.count), displacements: runs.map(\.lowerBound), type: T.collectiveElementType,
                       root: root, handle)
    }

    /// `root`'s `whole`, cut into `runs`: rank r receives run r into `part`
    /// (`whole` is ignored on the other ranks and may be empty there).
    public func scatter<T: CollectiveElement>(_ whole: UnsafeBufferPointer<T>, into part: UnsafeMutableBufferPointer<T>,
                                              runs: [Range<Int>], root: Int = 0) throws {
        precondition(runs.count == size && part.count == runs[rank].count, "scatter of runs \(runs) into \(part.count) elements")
        precondition(rank != root || runs.allSatisfy { $0.upperBound <= whole.count }, "scatter runs \(runs) past \(whole.count)")
        try MPI.scatter(UnsafeRawPointer(whole.baseAddress), counts: runs.map(\.count), displacements: runs.map(\.lowerBound),
                        into: UnsafeMutableRawPointer(part.baseAddress), count: part.count, type: T.collectiveElementType,
                        root: root, handle)
    }

    // MARK: Point to point

    /// Starts sending `buffer` to rank `destination`; the message matches the
    /// receive there with the same `tag`. `buffer` must stay allocated and
    /// unchanged until the request completes.
    ///
    /// Point-to-point messages let a caller fix the order in which partial
    /// sums meet (MPI_Allreduce promises no order), which the deterministic
    /// gradient reduction needs.
    public func startSend<T: CollectiveElement>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws
        -> CommunicationRequest
    {
        let request = try MPI.startSend(UnsafeRawPointer(buffer.baseAddress), count: buffer.count,
                                        type: T.collectiveElementType, to: destination, tag: tag, handle)
        return CommunicationRequest(handle: request)
    }

    /// Starts receiving exactly `buffer.count` elements from rank `source`
    /// with `tag` into `buffer`, which must stay allocated and untouched
    /// until the request completes.
    public func startReceive<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int) throws
        -> CommunicationRequest
    {
        let request = try MPI.startReceive(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count,
                                           type: T.collectiveElementType, from: source, tag: tag, handle)
        return CommunicationRequest(handle: request)
    }
}
