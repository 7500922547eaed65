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
/// A state can go to more than one file (`CheckpointDestination`): an
/// epoch's end that is also the best so far is snapshotted once and written
/// as `best.h5` and then as the rolling checkpoint, in that order, so a
/// checkpoint that records a new best is never on disk before the best is.
///
/// The writes run on a thread of the writer's own at a lower priority (nice
/// 10): measured on 2 busy cores, waking an ordinary thread for the write
/// preempted the training thread for a whole time slice (2-3 ms) per save.
public final class CheckpointWriter: Sendable {
    /// A state and the files it goes to, in order.
    private struct Job: Sendable {
        var state: TrainingState
        var destinations: [CheckpointDestination]
    }

    /// Whether a write is under way, the state waiting for it, the error of
    /// a failed write not yet reported, and the last completed write.
    private struct Status {
        var busy = false
        var closed = false
        var pending: Job?
        var failure: (any Error)?
        var lastSaved: SavedCheckpoint?
    }

    /// What the writer thread shares with the writer; the thread holds this,
    /// not the writer, so dropping the writer ends the thread.
    private final class Shared: Sendable {
        let write: @Sendable (TrainingState, CheckpointDestination) throws -> SavedCheckpoint
        let status = Mutex(Status())
        /// Signalled when a state is waiting or the writer is closed.
        let wakeup = DispatchSemaphore(value: 0)
        /// Entered when writing starts, left when no write is in flight or
        /// waiting: waiting on it waits for every saved state.
        let inFlight = DispatchGroup()

        init(write: @escaping @Sendable (TrainingState, CheckpointDestination) throws -> SavedCheckpoint) { self.write = write }

        /// The writer thread: writes whatever is waiting, until closed.
        func serve() {
            #if canImport(Glibc)
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)  // this thread only (Linux)
            #endif
            while true {
                wakeup.wait()
                var next = status.withLock { status -> Job? in
                    let job = status.pending
                    status.pending = nil
                    return job
                }
                guard next != nil || !status.withLock({ $0.closed }) else { return }
                while let job = next {
                    // The first failure ends the job: its later files are not written.
                    let result = Result {
                        try job.destinations.map { destination in (destination, try write(job.state, destination)) }
                    }
                    next = status.withLock { status in
                        switch result {
                        case let .success(written):
                            if let saved = written.last(where: { $0.0 == .rolling })?.1 { status.lastSaved = saved }
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

    /// A writer that saves into `directory`: a rolling checkpoint with
    /// `CheckpointDirectory.save(_:)` (atomic, `latest` updated, old
    /// checkpoints pruned), a named file with `save(_:as:)`.
    public convenience init(directory: CheckpointDirectory) {
        self.init { state, destination in
            switch destination {
            case .rolling: try directory.save(state)
            case .named(let name): try directory.save(state, as: name)
            }
        }
    }

    /// A writer that runs `write` in the background for each state and destination.
    public init(write: @escaping @Sendable (TrainingState, CheckpointDestination) throws -> SavedCheckpoint) {
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

    /// Hands `state` to the background writer, to be written to each of
    /// `destinations` in order, and returns at once.
    ///
    /// If the previous write failed, throws its error instead and does not
    /// take this state (call again to retry).
    public func save(_ state: TrainingState, to destinations: [CheckpointDestination] = [.rolling]) throws {
        let job = Job(state: state, destinations: destinations)
        while true {
            let outcome: SaveOutcome = try shared.status.withLock { status in
                if let failure = status.failure {
                    status.failure = nil
                    throw failure
                }
                if status.pending != nil { return .slotTaken }
                status.pending = job
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
    /// error of a failed write not yet reported. Returns the last completed
    /// rolling checkpoint.
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

    /// The last rolling checkpoint whose write completed, if any.
    public var lastSaved: SavedCheckpoint? { shared.status.withLock { $0.lastSaved } }
}

/// Where `CheckpointWriter` puts a state in its directory.
public enum CheckpointDestination: Sendable, Equatable {
    /// The next rolling checkpoint, `ckpt-<step>.h5`.
    case rolling
    /// A file of this name beside them (`best.h5`), outside the rotation.
    case named(String)
}
