import Dispatch
import Synchronization

/// Writes checkpoints on a background thread so that saving does not stall
/// training: the caller takes a `TrainingState` snapshot (a copy of the flat
/// buffers) and `save(_:)` returns at once while the file is written.
///
/// At most one write is in flight: `save(_:)` called during a write first
/// waits for it. A write that fails is reported by the next `save(_:)` or
/// `waitUntilIdle()`, which throw its error (once).
public final class CheckpointWriter: Sendable {
    /// Whether a write is under way, the error of a failed write not yet
    /// reported, and the last completed write.
    private struct Status {
        var busy = false
        var failure: (any Error)?
        var lastSaved: SavedCheckpoint?
    }

    private let write: @Sendable (TrainingState) throws -> SavedCheckpoint
    private let status = Mutex(Status())
    /// Entered when a write starts, left when it ends: waiting on it waits
    /// for the write in flight.
    private let inFlight = DispatchGroup()
    private let queue = DispatchQueue(label: "checkpoint-writer", qos: .utility)

    /// A writer that saves into `directory` (`CheckpointDirectory.save(_:)`:
    /// atomic, `latest` updated, old checkpoints pruned).
    public convenience init(directory: CheckpointDirectory) {
        self.init { state in try directory.save(state) }
    }

    /// A writer that runs `write` in the background for each state.
    public init(write: @escaping @Sendable (TrainingState) throws -> SavedCheckpoint) {
        self.write = write
    }

    /// Starts writing `state` in the background and returns.
    ///
    /// Waits first for a write still in flight. If the previous write failed,
    /// throws its error instead and does not start this one (call again to
    /// retry).
    public func save(_ state: TrainingState) throws {
        while true {
            inFlight.wait()
            let started: Bool = try status.withLock { status in
                if let failure = status.failure {
                    status.failure = nil
                    throw failure
                }
                guard !status.busy else { return false }  // another caller's write began meanwhile
                status.busy = true
                inFlight.enter()
                return true
            }
            if started { break }
        }
        queue.async { [self] in
            let result = Result { try write(state) }
            status.withLock { status in
                switch result {
                case let .success(saved): status.lastSaved = saved
                case let .failure(error): status.failure = error
                }
                status.busy = false
            }
            inFlight.leave()
        }
    }

    /// Blocks until no write is in flight; throws the error of a failed
    /// write not yet reported. Returns the last completed write.
    @discardableResult
    public func waitUntilIdle() throws -> SavedCheckpoint? {
        inFlight.wait()
        return try status.withLock { status in
            if let failure = status.failure {
                status.failure = nil
                throw failure
            }
            return status.lastSaved
        }
    }

    /// Whether a write is under way right now.
    public var isWriting: Bool { status.withLock { $0.busy } }

    /// The last write that completed, if any.
    public var lastSaved: SavedCheckpoint? { status.withLock { $0.lastSaved } }
}
