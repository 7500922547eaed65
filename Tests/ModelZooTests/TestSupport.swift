import Testing
import TensorCore

// The two helpers of NNTests/TestSupport.swift the zoo tests use (test targets cannot share files).

/// A tensor of `shape` uniform in [low, high) from a generator seeded by `seed`.
func randomTensor(_ shape: [Int], low: Float = -1, high: Float = 1, seed: UInt64) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, generator: &generator)
}

/// Expects `actual` and `expected` to agree elementwise within
/// `absolute + relative * |expected|`.
func expectClose(_ actual: [Float], _ expected: [Float], absolute: Float = 1e-6, relative: Float = 1e-5,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    let failures = zip(actual, expected).enumerated().filter { _, pair in
        !(abs(pair.0 - pair.1) <= absolute + relative * abs(pair.1))  // NaN fails too
    }
    if let first = failures.first {
        let (i, (a, e)) = first
        let message = "\(failures.count) of \(actual.count) differ; first at \(i): \(a) vs expected \(e)"
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
}

