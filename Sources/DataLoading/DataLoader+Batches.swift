import Foundation

extension DataLoader {
    /// The batches of one epoch from a starting step: a `Sequence` whose every
    /// iteration assembles batches afresh (on a background thread when the
    /// loader prefetches).
    public struct Batches: Sequence, Sendable {
        public let loader: DataLoader
        public let epoch: Int
        public let firstStep: Int

        public var underestimatedCount: Int { loader.stepsPerEpoch - firstStep }

        public func makeIterator() -> Iterator {
            Iterator(loader: loader, epoch: epoch, firstStep: firstStep)
        }
    }

    /// Yields the batches in step order. With prefetching it owns a producer
    /// thread, which it stops when it is dropped.
    public struct Iterator: IteratorProtocol {
        private let loader: DataLoader
        private let epoch: Int
        private var nextStep: Int
        /// The epoch's order, computed on first use when not prefetching.
        private var order: SampleOrder?
        private let producer: BatchProducer?

        init(loader: DataLoader, epoch: Int, firstStep: Int) {
            self.loader = loader
            self.epoch = epoch
            self.nextStep = firstStep
            self.producer = loader.prefetch > 0
                ? BatchProducer(loader: loader, epoch: epoch, firstStep: firstStep)
                : nil
        }

        public mutating func next() -> Batch? {
            if let producer {
                return producer.queue.take()
            }
            guard nextStep < loader.stepsPerEpoch else { return nil }
            if order == nil {
                order = loader.sampler.order(epoch: epoch)
            }
            defer { nextStep += 1 }
            return loader.makeBatch(epoch: epoch, step: nextStep, order: order!)
        }
    }
}

/// The background thread that assembles one iteration's batches into a
/// `PrefetchQueue`. A class so that its `deinit`, run when the last copy of
/// the iterator is dropped, can stop the thread.
final class BatchProducer {
    let queue: PrefetchQueue

    init(loader: DataLoader, epoch: Int, firstStep: Int) {
        let queue = PrefetchQueue(capacity: loader.prefetch)
        self.queue = queue
        let thread = Thread {
            let order = loader.sampler.order(epoch: epoch)
            for step in firstStep..<loader.stepsPerEpoch {
                if queue.isCancelled { break }
                let batch = loader.makeBatch(epoch: epoch, step: step, order: order)
                if !queue.put(batch) { break }
            }
            queue.finish()
        }
        thread.name = "DataLoader prefetch"
        thread.start()
    }

    deinit {
        queue.cancelAndWaitForProducer()
    }
}
