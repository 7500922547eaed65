import Testing
import TensorCore

// Test helpers shared by the TensorCore tests.

/// Expects the gradient of every input to match central differences (`gradientCheck`).
func expectGradientsMatch(_ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Double = 2e-3,
                          sourceLocation: SourceLocation = #_sourceLocation,
                          _ f: ([Tensor]) -> Tensor) {
    for (k, worst) in gradientCheck(inputs, epsilon: epsilon, f).enumerated() {
        #expect(worst.error <= tolerance,
                "input \(k) element \(worst.element): analytic \(worst.analytic), numeric \(worst.numeric)",
                sourceLocation: sourceLocation)
    }
}

/// A tensor of `shape` uniform in [low, high) from a generator seeded by `seed`.
func randomTensor(_ shape: [Int], low: Float = -1, high: Float = 1, seed: UInt64) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, generator: &generator)
}

/// Uniform values whose magnitude lies in [minimum, maximum) with random signs
/// (keeps kinks such as relu's at 0 out of reach of the perturbation).
func randomTensorAwayFromZero(_ shape: [Int], minimum: Float, maximum: Float, seed: UInt64) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    let values = (0..<shape.reduce(1, *)).map { _ -> Float in
        let magnitude = generator.uniform(minimum, maximum)
        return generator.nextFloat() < 0.5 ? -magnitude : magnitude
    }
    return Tensor(shape: shape, values: values)
}

/// Expects `actual` and `expected` to agree elementwise within
/// `absolute + relative * |expected|`.
func expectClose<E: BinaryFloatingPoint>(_ actual: [Float], _ expected: [E], absolute: Double = 1e-6,
                                         relative: Double = 1e-5, _ comment: String = "",
                                         sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(actual.count) values, expected \(expected.count)",
            sourceLocation: sourceLocation)
    let failures = zip(actual, expected).enumerated().filter { _, pair in
        let (a, e) = (Double(pair.0), Double(pair.1))
        return !(abs(a - e) <= absolute + relative * abs(e))  // NaN fails too
    }
    if let first = failures.first {
        let (i, (a, e)) = first
        let message = "\(failures.count) of \(actual.count) differ; first at \(i): \(a) vs expected \(e) \(comment)"
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
}
