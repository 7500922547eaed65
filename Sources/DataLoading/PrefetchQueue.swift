import Foundation
import TensorCore

/// The bounded hand-off between a `DataLoader`'s producer thread and the
/// training loop: the producer blocks while `capacity` batches wait, the
/// consumer blocks while none do.
///
/// Cancellation is part of the protocol so that abandoning an iteration early
/// stops the producer promptly: `cancelAndWaitForProducer()` wakes a producer
/// blocked on a full queue, and waits until it has exited, so no thread
/// outlives its iteration.
///
/// `@unchecked Sendable`: the producer and consumer threads share this box,
/// and every access to its mutable state happens while holding `condition`'s
/// lock, which the compiler cannot check by itself.
final class PrefetchQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    private var batches: [Batch] = []
    private var cancelled = false
    private var producerFinished = false

    init(capacity: Int) {
        ensure(capacity > 0, "Prefetch capacity must be positive, got \(capacity)")
        self.capacity = capacity
    }

    /// Producer: whether the consumer has gone, checked before assembling a batch.
    var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    /// Producer: appends `batch`, waiting for room. Returns false, dropping
    /// the batch, when the consumer has cancelled.
    func put(_ batch: Batch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= capacity && !cancelled {
            condition.wait()
        }
        if cancelled { return false }
        batches.append(batch)
        condition.broadcast()
        return true
    }

    /// Producer: there will be no more batches. The last thing it does.
    func finish() {
        condition.lock()
        defer { condition.unlock() }
        producerFinished = true
        condition.broadcast()
    }

    /// Consumer: the next batch, waiting for it; nil once the producer has
    /// finished and everything has been taken.
    func take() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !producerFinished {
            condition.wait()
        }
        if batches.isEmpty { return nil }
        let batch = batches.removeFirst()
        condition.broadcast()
        return batch
    }

    /// Consumer: stop the producer and wait until it has finished. Batches not
    /// yet taken are dropped.
    func cancelAndWaitForProducer() {
        condition.lock()
        defer { condition.unlock() }
        cancelled = true
        batches.removeAll()
        condition.broadcast()
        while !producerFinished {
            condition.wait()
        }
    }
}
