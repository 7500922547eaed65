import Testing
import TensorCore

// Helpers the NN and model-zoo tests share: random tensors, closeness and
// gradient checks that record Swift Testing issues.

/// A tensor of `shape` uniform in [low, high) from a generator seeded by `seed`.
public func randomTensor(_ shape: [Int], low: Float = -1, high: Float = 1, seed: UInt64) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, generator: &generator)
}

/// Expects `actual` and `expected` to agree elementwise within
/// `absolute + relative * |expected|`.
public func expectClose(_ actual: [Float], _ expected: [Float], absolute: Float = 1e-6, relative: Float = 1e-5,
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

/// Expects the gradient of every input (and parameter) in `inputs` to match
/// central differences (`gradientCheck`).
public func expectGradientsMatch(_ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Double = 2e-3,
                          sourceLocation: SourceLocation = #_sourceLocation, _ f: () -> Tensor) {
    for (k, worst) in gradientCheck(inputs, epsilon: epsilon, { _ in f() }).enumerated() where worst.error > tolerance {
        Issue.record("input \(k) element \(worst.element): analytic \(worst.analytic), numeric \(worst.numeric)",
                     sourceLocation: sourceLocation)
    }
}
