import Collective
import Foundation
import NN
import TensorCore

/// Averages gradients across the ranks of a data-parallel job, overlapping
/// communication with backward.
///
/// The flat gradient buffer is cut into buckets of whole parameters, in
/// reverse registration order (the order backward produces them). Backward
/// reports each parameter whose gradient is final; when every parameter of a
/// bucket is final, that bucket's `MPI_Iallreduce` starts while backward goes
/// on with earlier layers. `finish()` starts what is left and waits for all
/// buckets; the optimizer divides by the world size as it reads them.
///
/// Every rank must start the same collectives in the same order, so buckets
/// start strictly in bucket order: a bucket that becomes ready early waits for
/// the ones before it.
final class GradientSynchronizer {
    let communicator: Communicator
    let parameters: ParameterSet
    /// Element ranges of the flat gradient buffer; bucket 0 holds the last parameters.
    let buckets: [Range<Int>]
    private let bucketOfParameter: [Int]
    private let parameterIndex: [ObjectIdentifier: Int]
    private let parametersPerBucket: [Int]
    private var remaining: [Int]
    private var requests: [AllreduceRequest?]
    private var nextToStart = 0
    /// Seconds spent in `finish()` waiting for buckets, summed over steps.
    private(set) var waitSeconds = 0.0

    init(communicator: Communicator, parameters: ParameterSet, bucketBytes: Int) {
        self.communicator = communicator
        self.parameters = parameters
        let capacity = max(bucketBytes / MemoryLayout<Float>.stride, 1)
        var buckets: [Range<Int>] = []
        var bucketOfParameter = [Int](repeating: 0, count: parameters.tensors.count)
        var counts: [Int] = []
        var current: Range<Int>? = nil
        var count = 0
        for index in parameters.tensors.indices.reversed() {
            let range = parameters.range(of: index)
            if let open = current, open.count + range.count > capacity {
                buckets.append(open)
                counts.append(count)
                current = nil
                count = 0
            }
            current = current.map { range.lowerBound..<$0.upperBound } ?? range
            count += 1
            bucketOfParameter[index] = buckets.count
        }
        if let open = current {
            buckets.append(open)
            counts.append(count)
        }
        self.buckets = buckets
        self.bucketOfParameter = bucketOfParameter
        parametersPerBucket = counts
        parameterIndex = Dictionary(uniqueKeysWithValues: parameters.tensors.enumerated().map { (ObjectIdentifier($0.element), $0.offset) })
        remaining = counts
        requests = Array(repeating: nil, count: buckets.count)
    }

    /// Resets the per-step state; call before backward.
    func beginStep() {
        remaining = parametersPerBucket
        nextToStart = 0
    }

    /// Backward's report that `tensor`'s gradient is final.
    func gradientReady(_ tensor: Tensor) throws {
        guard let index = parameterIndex[ObjectIdentifier(tensor)] else { return }
        remaining[bucketOfParameter[index]] -= 1
        while nextToStart < buckets.count && remaining[nextToStart] == 0 {
            try start(nextToStart)
        }
        // Non-blocking collectives advance only inside MPI calls: poll the
        // ones in flight so they progress while backward computes.
        for request in requests.prefix(nextToStart) { _ = request?.test() }
    }

    private func start(_ bucket: Int) throws {
        let range = buckets[bucket]
        let buffer = UnsafeMutableBufferPointer(start: parameters.gradients.base + range.lowerBound, count: range.count)
        requests[bucket] = try communicator.startAllreduceSum(buffer)
        nextToStart = bucket + 1
    }

    /// Starts the buckets not yet started and waits for all. The buffer then
    /// holds sums; the optimizer's `gradientScale` of 1 / size makes them means.
    func finish() throws {
        while nextToStart < buckets.count { try start(nextToStart) }
        let begin = DispatchTime.now().uptimeNanoseconds
        for request in requests { try request?.wait() }
        waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
        for i in requests.indices { requests[i] = nil }
    }
}
