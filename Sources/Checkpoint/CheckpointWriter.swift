import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Writes checkpoints on a background thread so that saving does not stall
/// training: the caller takes a `TrainingState` snapshot (a copy of the flat
/// buffers) and `save(_:)` returns at once while the file is written.
///
/// At most one write is in flight and one state waits behind it: a
/// `save(_:)` during a write returns at once, and only a save that finds a
/// state already waiting blocks until the writer takes that one, so every
/// saved step is written. A write that fails is reported by the next
/// `save(_:)` or `waitUntilIdle()`, which throw its error (once); a state
/// waiting behind a failed write is dropped with it.
///
/// The writes run on a thread of the writer's own at a lower priority (nice
/// 10): measured on 2 busy cores, waking an ordinary thread for the write
/// preempted the training thread for a whole time slice (2-3 ms) per save.
public final class CheckpointWriter: Sendable {
    /// Whether a write is under way, the state waiting for it, the error of
    /// a failed write not yet reported, and the last completed write.
    private struct Status {
        var busy = false
        var closed = false
        var pending: TrainingState?
        var failure: (any Error)?
        var lastSaved: SavedCheckpoint?
    }

    /// What the writer thread shares with the writer; the thread holds this,
    /// not the writer, so dropping the writer ends the thread.
    private final class Shared: Sendable {
        let write: @Sendable (TrainingState) throws -> SavedCheckpoint
        let status = Mutex(Status())
        /// Signalled when a state is waiting or the writer is closed.
        let wakeup = DispatchSemaphore(value: 0)
        /// Entered when writing starts, left when no write is in flight or
        /// waiting: waiting on it waits for every saved state.
        let inFlight = DispatchGroup()

        init(write: @escaping @Sendable (TrainingState) throws -> SavedCheckpoint) { self.write = write }

        /// The writer thread: writes whatever is waiting, until closed.
        func serve() {
            #if canImport(Glibc)
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)  // this thread only (Linux)
            #endif
            while true {
                wakeup.wait()
                var next = status.withLock { status -> TrainingState? in
                    let state = status.pending
                    status.pending = nil
                    return state
                }
                guard next != nil || !status.withLock({ $0.closed }) else { return }
                while let state = next {
                    let result = Result { try write(state) }
                    next = status.withLock { status in
                        switch result {
                        case let .success(saved):
                            status.lastSaved = saved
                        case let .failure(error):
                            status.failure = error
                            status.pending = nil
                        }
                        let pending = status.pending
                        status.pending = nil
                        if pending == nil { status.busy = false }
                        return pending
                    }
                }
                inFlight.leave()
            }
        }
    }

    private let shared: Shared

    /// A writer that saves into `directory` (`CheckpointDirectory.save(_:)`:
    /// atomic, `latest` updated, old checkpoints pruned).
    public convenience init(directory: CheckpointDirectory) {
        self.init { state in try directory.save(state) }
    }

    /// A writer that runs `write` in the background for each state.
    public init(write: @escaping @Sendable (TrainingState) throws -> SavedCheckpoint) {
        let shared = Shared(write: write)
        self.shared = shared
        let thread = Thread { shared.serve() }
        thread.name = "checkpoint-writer"
        thread.start()
    }

    deinit {
        shared.status.withLock { $0.closed = true }
        shared.wakeup.signal()
    }

    /// Hands `state` to the background writer and returns at once.
    ///
    /// If the previous write failed, throws its error instead and does not
    /// take this state (call again to retry).
    public func save(_ state: TrainingState) throws {
        while true {
            let outcome: SaveOutcome = try shared.status.withLock { status in
                if let failure = status.failure {
                    status.failure = nil
                    throw failure
                }
                if status.pending != nil { return .slotTaken }
                status.pending = state
                if status.busy { return .queued }
                status.busy = true
                return .started
            }
            switch outcome {
            case .started:
                shared.inFlight.enter()
                shared.wakeup.signal()
                return
            case .queued:
                return
            case .slotTaken:
                // Rare: saves come faster than writes. Wait for the writer
                // to take the waiting state (at most one write's time).
                Thread.sleep(forTimeInterval: 0.0005)
            }
        }
    }

    private enum SaveOutcome { case started, queued, slotTaken }

    /// Blocks until every saved state is written (or failed); throws the
    /// error of a failed write not yet reported. Returns the last completed write.
    @discardableResult
    public func waitUntilIdle() throws -> SavedCheckpoint? {
        shared.inFlight.wait()
        return try shared.status.withLock { status in
            if let failure = status.failure {
                status.failure = nil
                throw failure
            }
            return status.lastSaved
        }
    }

    /// Whether a write is under way right now.
    public var isWriting: Bool { shared.status.withLock { $0.busy } }

    /// The last write that completed, if any.
    public var lastSaved: SavedCheckpoint? { shared.status.withLock { $0.lastSaved } }
}
