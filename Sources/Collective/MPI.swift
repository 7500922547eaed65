import CMPI
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The only file in Collective that talks to the MPI C library: process-wide
// initialisation and finalisation, and thin wrappers that turn every MPI
// return code into a thrown `MPIError`. Communicator and CommunicationRequest
// are written in plain Swift on top of these.

// MARK: Initialisation

/// What is known about this process's MPI world once it is initialised.
struct WorldInfo: Sendable {
    var rank: Int
    var size: Int
    /// Whether MPI granted MPI_THREAD_MULTIPLE.
    var threadMultiple: Bool
}

/// Process-wide MPI state, guarded by `runtime`.
private struct RuntimeState {
    /// Set once MPI is initialised and the world communicator configured.
    var world: WorldInfo?
    /// The launcher environment as it was before MPI_Init: a singleton init
    /// adds PMIX_RANK to the environment, which would otherwise make every
    /// process look as if mpirun had started it.
    var launchedByMPIRun: Bool?
}

/// MPI_Init may run only once per process and never after MPI_Finalize, and
/// tests call `Communicator.world()` concurrently, so initialisation happens
/// behind this lock.
private let runtime = Mutex(RuntimeState())

/// A communicator handle. `@unchecked Sendable` because an MPI_Comm is an
/// immutable reference to a library object that MPI_THREAD_MULTIPLE lets
/// any thread use, and the world communicator lives until MPI_Finalize.
struct CommunicatorHandle: @unchecked Sendable {
    fileprivate let raw: MPI_Comm

    /// MPI_COMM_WORLD: every process that mpirun started.
    static var world: CommunicatorHandle { CommunicatorHandle(raw: cmpi_comm_world()) }
}

/// A shared-memory window (MPI_Win_allocate_shared). `@unchecked Sendable`
/// for the reason a communicator handle is: an MPI_Win is a reference to a
/// library object that lives until MPI_Finalize (never freed: freeing is
/// collective, and the memory is in use until the process ends).
struct WindowHandle: @unchecked Sendable {
    fileprivate let raw: MPI_Win
}

/// Whether the environment names an MPI launcher (mpirun sets
/// OMPI_COMM_WORLD_SIZE; PMIx-based launchers set PMIX_RANK).
private func environmentNamesLauncher() -> Bool {
    if let ess = getenv("OMPI_MCA_ess"), String(cString: ess) == "singleton" {
        return false
    }
    return getenv("OMPI_COMM_WORLD_SIZE") != nil || getenv("PMIX_RANK") != nil
}

enum MPIRuntime {
    /// Whether this process was started by mpirun (or another MPI launcher),
    /// judged from the environment before this module initialised MPI.
    static var launchedByMPIRun: Bool {
        runtime.withLock { state in
            state.launchedByMPIRun ?? environmentNamesLauncher()
        }
    }

    /// Initialises MPI once (requesting MPI_THREAD_MULTIPLE), makes the
    /// world communicator return error codes instead of aborting, and
    /// registers MPI_Finalize to run at process exit if it initialised MPI.
    static func initializeWorld() throws -> WorldInfo {
        try runtime.withLock { state in
            if let world = state.world {
                return world
            }
            var flag: Int32 = 0
            try check(MPI_Finalized(&flag), "MPI_Finalized")
            if flag != 0 {
                throw MPIError(function: "MPI_Init_thread", code: nil,
                               message: "MPI was already finalized; it cannot be initialized again in this process")
            }
            try check(MPI_Initialized(&flag), "MPI_Initialized")
            var provided: Int32 = 0
            if flag == 0 {
                state.launchedByMPIRun = environmentNamesLauncher()
                yieldWhenIdleUnlessSet()
                copyThroughSharedMemoryUnlessSet()
                // Errors here abort (the default handler is not replaced yet).
                try check(MPI_Init_thread(nil, nil, cmpi_thread_multiple(), &provided), "MPI_Init_thread")
                // Only the initialiser finalises; a closure without captures
                // is a C function pointer.
                atexit { finalizeAtExit() }
            } else {
                try check(MPI_Query_thread(&provided), "MPI_Query_thread")
            }
            let world = cmpi_comm_world()
            try check(MPI_Comm_set_errhandler(world, cmpi_errors_return()), "MPI_Comm_set_errhandler")
            var rank: Int32 = 0
            var size: Int32 = 0
            try check(MPI_Comm_rank(world, &rank), "MPI_Comm_rank")
            try check(MPI_Comm_size(world, &size), "MPI_Comm_size")
            let info = WorldInfo(rank: Int(rank), size: Int(size),
                                 threadMultiple: provided >= cmpi_thread_multiple())
            state.world = info
            return info
        }
    }
}

/// Makes a rank that waits in MPI call sched_yield between polls, unless the
/// user chose otherwise (`--mca mpi_yield_when_idle 0` or the variable).
///
/// Why: over TCP through a virtual NIC (veth pairs between network
/// namespaces here; cloud VMs' virtual NICs behave alike) the kernel hands
/// received packets to ksoftirqd, a thread of the CPU that sent them. A rank
/// that busy-polls that CPU without yielding keeps it from running until the
/// next scheduler tick (4 ms at HZ=250). Measured between two namespace
/// hosts: an MPI_Allreduce of 407 KB took 24 ms (the same with both ranks
/// pinned to one core and the other core idle: the starved thread is per
/// CPU), the MLP 2,700 samples/s; yielding: 0.30 ms (TCP between the same
/// namespaces: 0.056 ms round trip, 1.69 GB/s, so 407 KB each way is at
/// least 0.27 ms) and 69,500 samples/s. On one host over shared memory it
/// costs nothing measurable (np=2 MLP epoch, medians of 3: 183,000 samples/s
/// without, 194,000 with), so it is the default everywhere.
private func yieldWhenIdleUnlessSet() {
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0)
}

/// Makes OpenMPI's shared-memory transport copy large messages through its
/// shared segment instead of reading the sender's memory directly (CMA,
/// `process_vm_readv`), unless the user chose otherwise (`--mca
/// btl_vader_single_copy_mechanism cma` or the variable).
///
/// Why: with CMA, the ranks' own arithmetic on the buffers the other rank
/// had read became several times slower for most of the time on this 2-core
/// machine. np=2, mlp, 5 alternated pairs of runs: the sharded Adam update of
/// half the parameters took 0.19-0.26 ms per step in 4 of 5 runs with CMA
/// and 0.034-0.044 ms in all 5 without (one process alone: 0.06 ms for all
/// of them); forward and backward 0.44 ms against 0.29-0.32 ms. The same
/// ranks started by mpirun but not communicating ran at the speed of a
/// process alone, so it is the cross-process reads, not the machine.
/// Throughput, medians of 7 alternated pairs of runs: mlp 91,200 with CMA
/// against 102,700 without, ae 69,800 against 83,400, cnn 49,600 against
/// 52,600 samples/s, although the copy itself is a little slower (407 KB
/// reduce-scattered: 0.03 against 0.04 ms).
private func copyThroughSharedMemoryUnlessSet() {
    setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 0)
}

/// Finalises MPI at exit unless something already did. Takes no lock: at
/// exit another thread may hold one forever.
private func finalizeAtExit() {
    var finalized: Int32 = 0
    if MPI_Finalized(&finalized) == cmpi_success(), finalized == 0 {
        _ = MPI_Finalize()
    }
}

// MARK: Error codes

/// Turns an MPI return code into an `MPIError` carrying MPI_Error_string's text.
private func check(_ code: Int32, _ function: String) throws {
    guard code != cmpi_success() else { return }
    var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
    var length: Int32 = 0
    let message: String
    if MPI_Error_string(code, &text, &length) == cmpi_success() {
        message = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    } else {
        message = "unknown MPI error"
    }
    throw MPIError(function: function, code: code, message: message)
}

/// MPI counts are 32-bit; larger buffers must be split into buckets.
private func mpiCount(_ count: Int, _ function: String) throws -> Int32 {
    guard let count = Int32(exactly: count) else {
        throw MPIError(function: function, code: nil,
                       message: "\(count) elements exceed MPI's 32-bit count; split the buffer into buckets")
    }
    return count
}

/// An array of MPI's 32-bit counts at a fixed address, for the collectives
/// that take one count per rank.
final class CountArray {
    let counts: UnsafeMutablePointer<Int32>

    init(_ values: [Int], _ function: String) throws {
        let converted = try values.map { try mpiCount($0, function) }
        counts = .allocate(capacity: max(values.count, 1))
        counts.initialize(from: converted, count: converted.count)
    }

    deinit { counts.deallocate() }
}

// MARK: Datatypes and operations

extension CollectiveElementType {
    /// The MPI datatype for this element type.
    fileprivate var datatype: MPI_Datatype {
        switch self {
        case .float32: cmpi_float()
        case .float64: cmpi_double()
        case .int32: cmpi_int32()
        case .int64: cmpi_int64()
        case .uint8: cmpi_uint8()
        case .uint64: cmpi_uint64()
        }
    }
}

/// The reductions this module offers.
enum Reduction {
    case sum, max

    fileprivate var op: MPI_Op {
        switch self {
        case .sum: cmpi_sum()
        case .max: cmpi_max()
        }
    }
}

/// An outstanding non-blocking operation. MPI_Request is a pointer that MPI
/// sets to MPI_REQUEST_NULL once the operation completes.
struct RequestHandle {
    fileprivate var raw: MPI_Request?

    /// A request that is already complete.
    static var completed: RequestHandle { RequestHandle(raw: cmpi_request_null()) }

    /// Whether MPI has released the request (it completed and was waited for).
    var isNull: Bool { raw == cmpi_request_null() }
}

// MARK: Calls

/// Thin throwing wrappers over the MPI calls the module uses.
enum MPI {
    static func barrier(_ comm: CommunicatorHandle) throws {
        try check(MPI_Barrier(comm.raw), "MPI_Barrier")
    }

    /// Broadcasts `count` elements of `type` at `buffer` from `root`.
    static func broadcast(_ buffer: UnsafeMutableRawPointer?, count: Int, type: CollectiveElementType,
                          root: Int, _ comm: CommunicatorHandle) throws {
        let count = try mpiCount(count, "MPI_Bcast")
        try check(MPI_Bcast(buffer, count, type.datatype, Int32(clamping: root), comm.raw), "MPI_Bcast")
    }

    /// Reduces `count` elements at `buffer` in place across all ranks.
    static func allreduce(_ buffer: UnsafeMutableRawPointer?, count: Int, type: CollectiveElementType,
                          _ reduction: Reduction, _ comm: CommunicatorHandle) throws {
        let count = try mpiCount(count, "MPI_Allreduce")
        try check(MPI_Allreduce(cmpi_in_place(), buffer, count, type.datatype, reduction.op, comm.raw),
                  "MPI_Allreduce")
    }

    /// Starts an in-place reduction; `buffer` must stay valid until it completes.
    static func startAllreduce(_ buffer: UnsafeMutableRawPointer?, count: Int, type: CollectiveElementType,
                               _ reduction: Reduction, _ comm: CommunicatorHandle) throws -> RequestHandle {
        let count = try mpiCount(count, "MPI_Iallreduce")
        var request = cmpi_request_null()
        try check(MPI_Iallreduce(cmpi_in_place(), buffer, count, type.datatype, reduction.op, comm.raw, &request),
                  "MPI_Iallreduce")
        return RequestHandle(raw: request)
    }

    /// Starts sending `count` elements at `buffer` to `destination` with
    /// `tag`; `buffer` must stay valid and unchanged until it completes.
    static func startSend(_ buffer: UnsafeRawPointer?, count: Int, type: CollectiveElementType,
                          to destination: Int, tag: Int, _ comm: CommunicatorHandle) throws -> RequestHandle {
        let count = try mpiCount(count, "MPI_Isend")
        var request = cmpi_request_null()
        try check(MPI_Isend(buffer, count, type.datatype, Int32(clamping: destination), Int32(clamping: tag),
                            comm.raw, &request), "MPI_Isend")
        return RequestHandle(raw: request)
    }

    /// Starts receiving `count` elements from `source` with `tag` into
    /// `buffer`, which must stay valid until it completes.
    static func startReceive(_ buffer: UnsafeMutableRawPointer?, count: Int, type: CollectiveElementType,
                             from source: Int, tag: Int, _ comm: CommunicatorHandle) throws -> RequestHandle {
        let count = try mpiCount(count, "MPI_Irecv")
        var request = cmpi_request_null()
        try check(MPI_Irecv(buffer, count, type.datatype, Int32(clamping: source), Int32(clamping: tag),
                            comm.raw, &request), "MPI_Irecv")
        return RequestHandle(raw: request)
    }

    /// Every rank's run of `counts[rank]` elements, at `displacements[rank]`
    /// of `buffer`, into every rank's `buffer` (in place).
    static func allgather(_ buffer: UnsafeMutableRawPointer?, counts: [Int], displacements: [Int],
                          type: CollectiveElementType, _ comm: CommunicatorHandle) throws {
        let (c, d) = (try CountArray(counts, "MPI_Allgatherv"), try CountArray(displacements, "MPI_Allgatherv"))
        try check(MPI_Allgatherv(cmpi_in_place(), 0, type.datatype, buffer, c.counts, d.counts, type.datatype, comm.raw),
                  "MPI_Allgatherv")
    }

    /// `count` elements at `send` from every rank, into `receive` on `root`
    /// (rank r's at `displacements[r]`; `receive` is ignored elsewhere).
    static func gather(_ send: UnsafeRawPointer?, count: Int, into receive: UnsafeMutableRawPointer?, counts: [Int],
                       displacements: [Int], type: CollectiveElementType, root: Int, _ comm: CommunicatorHandle) throws {
        let (c, d) = (try CountArray(counts, "MPI_Gatherv"), try CountArray(displacements, "MPI_Gatherv"))
        try check(MPI_Gatherv(send, try mpiCount(count, "MPI_Gatherv"), type.datatype, receive, c.counts, d.counts,
                              type.datatype, Int32(clamping: root), comm.raw), "MPI_Gatherv")
    }

    /// The inverse of `gather`: rank r receives `counts[r]` elements of
    /// `root`'s `send`, from `displacements[r]`, into `receive`.
    static func scatter(_ send: UnsafeRawPointer?, counts: [Int], displacements: [Int], into receive: UnsafeMutableRawPointer?,
                        count: Int, type: CollectiveElementType, root: Int, _ comm: CommunicatorHandle) throws {
        let (c, d) = (try CountArray(counts, "MPI_Scatterv"), try CountArray(displacements, "MPI_Scatterv"))
        try check(MPI_Scatterv(send, c.counts, d.counts, type.datatype, receive, try mpiCount(count, "MPI_Scatterv"),
                               type.datatype, Int32(clamping: root), comm.raw), "MPI_Scatterv")
    }

    /// Blocks until the request completes.
    static func wait(_ request: inout RequestHandle) throws {
        try check(MPI_Wait(&request.raw, cmpi_status_ignore()), "MPI_Wait")
    }

    /// Whether the request has completed, without blocking.
    static func test(_ request: inout RequestHandle) throws -> Bool {
        var flag: Int32 = 0
        try check(MPI_Test(&request.raw, &flag, cmpi_status_ignore()), "MPI_Test")
        return flag != 0
    }

    /// Ends every process in the communicator with `code`.
    /// The ranks of `comm` that share memory with this one (one machine),
    /// ordered as in `comm`: MPI_Comm_split_type(MPI_COMM_TYPE_SHARED).
    static func splitSharingMemory(_ comm: CommunicatorHandle) throws -> CommunicatorHandle {
        var rank: Int32 = 0
        try check(MPI_Comm_rank(comm.raw, &rank), "MPI_Comm_rank")
        var split: MPI_Comm?
        try check(MPI_Comm_split_type(comm.raw, cmpi_comm_type_shared(), rank, cmpi_info_null(), &split),
                  "MPI_Comm_split_type")
        return try configured(split, "MPI_Comm_split_type")
    }

    /// The ranks of `comm` that pass the same `color`, ordered by `key`.
    static func split(_ comm: CommunicatorHandle, color: Int, key: Int) throws -> CommunicatorHandle {
        var split: MPI_Comm?
        try check(MPI_Comm_split(comm.raw, Int32(clamping: color), Int32(clamping: key), &split), "MPI_Comm_split")
        return try configured(split, "MPI_Comm_split")
    }

    /// A new communicator that returns errors as codes, as the world does.
    private static func configured(_ split: MPI_Comm?, _ function: String) throws -> CommunicatorHandle {
        guard let split, split != cmpi_comm_null() else {
            throw MPIError(function: function, code: nil, message: "no communicator returned")
        }
        try check(MPI_Comm_set_errhandler(split, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        return CommunicatorHandle(raw: split)
    }

    static func rankAndSize(_ comm: CommunicatorHandle) throws -> (rank: Int, size: Int) {
        var rank: Int32 = 0, size: Int32 = 0
        try check(MPI_Comm_rank(comm.raw, &rank), "MPI_Comm_rank")
        try check(MPI_Comm_size(comm.raw, &size), "MPI_Comm_size")
        return (Int(rank), Int(size))
    }

    /// Allocates `bytes` for this rank in a window that every rank of
    /// `comm` (whose ranks share memory) can load from and store to, and
    /// opens the passive-target epoch in which loads, stores and
    /// MPI_Win_sync are allowed for the window's whole life.
    static func allocateSharedWindow(bytes: Int, _ comm: CommunicatorHandle) throws -> WindowHandle {
        var base: UnsafeMutableRawPointer?
        var window: MPI_Win?
        try check(MPI_Win_allocate_shared(MPI_Aint(bytes), 1, cmpi_info_null(), comm.raw, &base, &window),
                  "MPI_Win_allocate_shared")
        guard let window else {
            throw MPIError(function: "MPI_Win_allocate_shared", code: nil, message: "no window returned")
        }
        try check(MPI_Win_set_errhandler(window, cmpi_errors_return()), "MPI_Win_set_errhandler")
        try check(MPI_Win_lock_all(cmpi_mode_nocheck(), window), "MPI_Win_lock_all")
        return WindowHandle(raw: window)
    }

    /// Where rank `rank`'s part of `window` lies in this process, and its size in bytes.
    static func sharedMemory(of rank: Int, in window: WindowHandle) throws -> (UnsafeMutableRawPointer?, Int) {
        var size: MPI_Aint = 0
        var unit: Int32 = 0
        var base: UnsafeMutableRawPointer?
        try withUnsafeMutablePointer(to: &base) { pointer in
            try check(MPI_Win_shared_query(window.raw, Int32(clamping: rank), &size, &unit, UnsafeMutableRawPointer(pointer)),
                      "MPI_Win_shared_query")
        }
        return (base, Int(size))
    }

    /// Makes this process's stores to `window` visible to, and its loads
    /// see, the other ranks' (a memory barrier in MPI's unified model).
    static func synchronize(_ window: WindowHandle) throws {
        try check(MPI_Win_sync(window.raw), "MPI_Win_sync")
    }

    static func abort(_ comm: CommunicatorHandle, code: Int32) -> Never {
        _ = MPI_Abort(comm.raw, code)
        // MPI_Abort does not return; if a broken library does, still stop.
        exit(code)
    }
}
