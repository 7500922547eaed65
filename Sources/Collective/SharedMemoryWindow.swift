/// Memory that every rank of one machine can load from and store to
/// directly (MPI-3's MPI_Win_allocate_shared): the ranks of a node exchange
/// gradients and parameters by reading each other's buffers in place,
/// instead of copying them through messages.
///
/// Each rank allocates its own part; `memory(of:)` gives where any rank's
/// part lies in this process. MPI's shared-memory model orders nothing by
/// itself: a rank that stored must `synchronize()` with the others before
/// they read (MPI_Win_sync, a barrier, MPI_Win_sync, the pattern of MPI-3.1
/// section 11.7's examples), and nobody may write a part that another rank
/// may still be reading until a later `synchronize()`.
///
/// The window lives until MPI_Finalize: freeing it would be a collective
/// call, and tensors view its memory for as long as the process trains.
public final class SharedMemoryWindow: @unchecked Sendable {
    /// The ranks that share the window (all on one machine).
    public let communicator: Communicator
    private let handle: WindowHandle
    /// Each rank's part: its first byte in this process, and its size.
    private let parts: [UnsafeMutableRawBufferPointer]

    /// Every rank of `communicator` (which must be one machine's ranks, as
    /// `Communicator.sharingMemory()` gives) allocates `bytes` of its own;
    /// a rank may ask for 0. `bytes` must be a multiple of 64: every part
    /// starts on a cache line (MPI's alignment is its own: OpenMPI's osc/sm
    /// returns 8-byte aligned parts, so each is padded and aligned here), so
    /// vector loops run aligned and no two ranks write one line. Collective.
    public init(communicator: Communicator, bytes: Int) throws {
        precondition(bytes >= 0 && bytes % 64 == 0, "a window part of \(bytes) bytes, not a multiple of 64")
        self.communicator = communicator
        let line = 64
        let handle = try MPI.allocateSharedWindow(bytes: bytes == 0 ? 0 : bytes + line, communicator.handle)
        self.handle = handle
        parts = try (0..<communicator.size).map { rank in
            let (base, size) = try MPI.sharedMemory(of: rank, in: handle)
            guard size > 0, let base else { return UnsafeMutableRawBufferPointer(start: nil, count: 0) }
            let aligned = base.alignedUp(toMultipleOf: line)
            return UnsafeMutableRawBufferPointer(start: aligned, count: size - line)
        }
    }

    /// Rank `rank`'s part of the window, as this process sees it.
    public func memory(of rank: Int) -> UnsafeMutableRawBufferPointer { parts[rank] }

    /// Returns once every rank has called it; stores made before it by any
    /// rank are visible after it to all. Collective.
    public func synchronize() throws {
        try MPI.synchronize(handle)
        try communicator.barrier()
        try MPI.synchronize(handle)
    }
}
