import NN
import TensorCore
import Testing
import DataParallel

@Suite("GradientBuckets: the layout both gradient reductions share")
struct GradientBucketsTests {
    /// Linear(784, 128) -> ReLU -> Linear(128, 10): parameters 0.weight
    /// (100,352 floats), 0.bias (128), 2.weight (1,280), 2.bias (10).
    static func parameters() -> ParameterSet {
        var generator = RandomGenerator(seed: 0)
        return ParameterSet(Sequential(Linear(784, 128, generator: &generator), ReLU(), Linear(128, 10, generator: &generator)))
    }

    @Test("Buckets of whole parameters in reverse order cover the flat buffer once, none over the size unless one parameter is")
    func layout() {
        let parameters = Self.parameters()
        for bytes in [1, 4 * 1_000, 4 * 2_000, 1 << 20, 64 << 20] {
            let buckets = GradientBuckets(parameters: parameters, bucketBytes: bytes)
            // Contiguous from the end of the buffer down to 0.
            #expect(buckets.ranges.first?.upperBound == parameters.count && buckets.ranges.last?.lowerBound == 0)
            for (a, b) in zip(buckets.ranges, buckets.ranges.dropFirst()) { #expect(b.upperBound == a.lowerBound) }
            #expect(buckets.parametersPerBucket.reduce(0, +) == 4)
            for (index, bucket) in buckets.bucketOfParameter.enumerated() {
                #expect(buckets.ranges[bucket].contains(parameters.range(of: index).lowerBound))
            }
            for (range, n) in zip(buckets.ranges, buckets.parametersPerBucket) where n > 1 {
                #expect(range.count * 4 <= bytes, "bucket \(range) over \(bytes) bytes")
            }
        }
        #expect(GradientBuckets(parameters: parameters, bucketBytes: 64 << 20).count == 1)
        #expect(GradientBuckets(parameters: parameters, bucketBytes: 1).count == 4)
        // 1 MB holds all 101,770 floats; 8,000 bytes the three small parameters
        // (1,418 floats) together, and the first layer's weight alone.
        #expect(GradientBuckets(parameters: parameters, bucketBytes: 1 << 20).parametersPerBucket == [4])
        #expect(GradientBuckets(parameters: parameters, bucketBytes: 8_000).parametersPerBucket == [3, 1])
    }

    @Test("A bucket becomes startable only when all its parameters and all earlier buckets are ready")
    func readiness() {
        let parameters = Self.parameters()
        var buckets = GradientBuckets(parameters: parameters, bucketBytes: 1)  // one bucket per parameter
        let t = parameters.tensors  // registration order; bucket 0 is the last parameter
        #expect(buckets.markReady(t[2]) == 0..<0)  // bucket 1 ready, bucket 0 not yet
        #expect(buckets.markReady(t[3]) == 0..<2)
        #expect(buckets.markReady(Tensor([1])) == 2..<2)  // not a parameter
        #expect(buckets.markReady(t[1]) == 2..<3)
        #expect(buckets.markAllReady() == 3..<4)
        buckets.reset()
        #expect(buckets.startable == 0)
    }
}
