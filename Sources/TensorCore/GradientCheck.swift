/// The worst disagreement between an input's analytic gradient and central
/// differences, as `gradientCheck` measures it.
public struct GradientDisagreement: Sendable {
    /// |analytic - numeric| / (1 + |numeric|).
    public let error: Double
    /// The flat index of the input element where it is largest.
    public let element: Int
    public let analytic: Double
    public let numeric: Double
}

/// Central-difference gradient checking, as `torch.autograd.gradcheck`: for
/// an op or a layer of your own, whether its backward agrees with its
/// forward. Returns, per input, the element where they disagree most.
///
/// The scalar loss is L = sum(f(inputs) * w) for fixed random weights w, so
/// every output element matters. The analytic gradient comes from
/// `backward(gradient: w)`; the numeric one perturbs each input element by
/// ±epsilon (in Float, the tensors' type, dividing by the step actually
/// taken) and evaluates L in Double. Inputs get `requiresGrad` and their
/// gradients are zeroed first. It costs two forward passes per element.
public func gradientCheck(_ inputs: [Tensor], epsilon: Float = 1e-2, seed: UInt64 = 0xC0FFEE,
                          _ f: ([Tensor]) -> Tensor) -> [GradientDisagreement] {
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

    var result: [GradientDisagreement] = []
    for x in inputs {
        let analytic = x.grad?.scalars ?? [Float](repeating: 0, count: x.count)
        var worst = GradientDisagreement(error: 0, element: -1, analytic: 0, numeric: 0)
        for i in 0..<x.count {
            let v = x.data[i]
            let up = v + epsilon, down = v - epsilon
            x.data[i] = up
            let lossUp = loss()
            x.data[i] = down
            let lossDown = loss()
            x.data[i] = v
            let numeric = (lossUp - lossDown) / (Double(up) - Double(down))
            let a = Double(analytic[i])
            let error = abs(a - numeric) / (1 + abs(numeric))
            if error > worst.error || worst.element < 0 {
                worst = GradientDisagreement(error: error, element: i, analytic: a, numeric: numeric)
            }
        }
        result.append(worst)
    }
    return result
}
