import Testing
import TensorCore

// Central-difference gradient checking, shared by the TensorCore tests.
//
// The scalar loss is L = sum(f(inputs) * w) for fixed random weights w, so
// every output element matters. The analytic gradient comes from
// `backward(gradient: w)`; the numeric one perturbs each input element by
// ±epsilon (in Float, the tensors' type) and evaluates L in Double.

/// The largest disagreement per input between analytic and numeric gradients,
/// each measured as |analytic - numeric| / (1 + |numeric|).
func gradientErrors(_ inputs: [Tensor], epsilon: Float = 1e-2, seed: UInt64 = 0xC0FFEE,
                    _ f: ([Tensor]) -> Tensor) -> [(error: Double, element: Int, analytic: Double, numeric: Double)] {
    for x in inputs {
        x.requiresGrad = true
        x.zeroGrad()  // an input may come from an earlier check
    }
    let out = f(inputs)
    var generator = RandomGenerator(seed: seed)
    let weights = Tensor.uniform(out.shape, low: -1, high: 1, generator: &generator)
    out.backward(gradient: weights)
    let w = weights.scalars.map(Double.init)

    func loss() -> Double {
        withNoGrad {
            zip(f(inputs).scalars, w).reduce(0) { $0 + Double($1.0) * $1.1 }
        }
    }

    var result: [(error: Double, element: Int, analytic: Double, numeric: Double)] = []
    for x in inputs {
        let analytic = x.grad?.scalars ?? [Float](repeating: 0, count: x.count)
        var worst = (error: 0.0, element: -1, analytic: 0.0, numeric: 0.0)
        for i in 0..<x.count {
            let v = x.data[i]
            let up = v + epsilon, down = v - epsilon
            x.data[i] = up
            let lossUp = loss()
            x.data[i] = down
            let lossDown = loss()
            x.data[i] = v
            // The step actually taken in Float, not the nominal 2 epsilon.
            let numeric = (lossUp - lossDown) / (Double(up) - Double(down))
            let a = Double(analytic[i])
            let error = abs(a - numeric) / (1 + abs(numeric))
            if error > worst.error || worst.element < 0 { worst = (error, i, a, numeric) }
        }
        result.append(worst)
    }
    return result
}

/// Expects the gradient of every input to match central differences.
func expectGradientsMatch(_ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Double = 2e-3,
                          sourceLocation: SourceLocation = #_sourceLocation,
                          _ f: ([Tensor]) -> Tensor) {
    for (k, worst) in gradientErrors(inputs, epsilon: epsilon, f).enumerated() {
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
