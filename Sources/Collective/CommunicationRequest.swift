/// A non-blocking operation in flight: an allreduce from
/// `Communicator.startAllreduceSum`, or a message from `startSend` /
/// `startReceive`.
///
/// Complete it with `wait()` (or poll with `test()`) before reading or
/// writing its buffer. If it is dropped while still running it waits in
/// `deinit`, because MPI would otherwise keep writing into a buffer that the
/// caller believes is free.
public final class CommunicationRequest {
    private var handle: RequestHandle
    /// A failure seen by `test()`, which cannot throw; `wait()` rethrows it.
    private var failure: MPIError?

    init(handle: RequestHandle) {
        self.handle = handle
    }

    deinit {
        if !handle.isNull {
            try? MPI.wait(&handle)
        }
    }

    /// Whether the operation has finished (successfully or not).
    public var isComplete: Bool { handle.isNull || failure != nil }

    /// Blocks until the operation has finished (the buffer holds the sum, or
    /// the message was sent or received);
    /// throws if it failed. Calling it again returns at once.
    public func wait() throws {
        if let failure {
            throw failure
        }
        guard !handle.isNull else { return }
        do {
            try MPI.wait(&handle)
        } catch let error as MPIError {
            failure = error
            throw error
        }
    }

    /// Whether the operation has finished, without blocking. A failure also
    /// counts as finished; `wait()` then throws it.
    public func test() -> Bool {
        guard !isComplete else { return true }
        do {
            return try MPI.test(&handle)
        } catch let error as MPIError {
            failure = error
            return true
        } catch {
            failure = MPIError(function: "MPI_Test", code: nil, message: "\(error)")
            return true
        }
    }
}

/// A request belongs to the thread that started it; hand over the buffer's
/// owner, not the request.
@available(*, unavailable)
extension CommunicationRequest: Sendable {}
