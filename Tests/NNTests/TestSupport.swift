import Testing
import TensorCore

// Small helpers shared by the NN tests.

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

/// Expects the gradient of every input (and parameter) in `inputs` to match
/// central differences of L = sum(f() * w), w fixed random weights, L
/// evaluated in Double (TensorCoreTests/FiniteDifference.swift, compact).
func expectGradientsMatch(_ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Double = 2e-3,
                          sourceLocation: SourceLocation = #_sourceLocation, _ f: () -> Tensor) {
    for x in inputs {
        x.requiresGrad = true
        x.zeroGrad()
    }
    let out = f()
    let weights = randomTensor(out.shape, seed: 0xC0FFEE)
    out.backward(gradient: weights)
    let w = weights.scalars.map(Double.init)
    func loss() -> Double { withNoGrad { zip(f().scalars, w).reduce(0) { $0 + Double($1.0) * $1.1 } } }
    for (k, x) in inputs.enumerated() {
        let analytic = x.grad?.scalars ?? [Float](repeating: 0, count: x.count)
        for i in 0..<x.count {
            let v = x.data[i], up = v + epsilon, down = v - epsilon
            x.data[i] = up
            let lossUp = loss()
            x.data[i] = down
            let lossDown = loss()
            x.data[i] = v
            let numeric = (lossUp - lossDown) / (Double(up) - Double(down))
            let error = abs(Double(analytic[i]) - numeric) / (1 + abs(numeric))
            if error > tolerance {
                Issue.record("input \(k) element \(i): analytic \(analytic[i]), numeric \(numeric)",
                             sourceLocation: sourceLocation)
                break
            }
        }
    }
}
