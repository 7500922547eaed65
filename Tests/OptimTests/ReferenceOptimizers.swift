import NN
import Optim
import Testing
import TensorCore

// torch.optim's update formulas, written independently in Double, and a
// fixture that drives an optimizer and its reference with the same gradients.
//
// The optimizers hold Float hyper-parameters; the references take exactly
// those values (Double(Float(0.9)), not 0.9), so they differ only in precision.

/// torch.optim.SGD (_single_tensor_sgd) for one flat parameter vector.
struct ReferenceSGD {
    var lr: Double, momentum: Double, dampening: Double, nesterov: Bool, weightDecay: Double
    var buffer: [Double]? = nil

    mutating func step(_ p: inout [Double], _ grad: [Double]) {
        var d = zip(grad, p).map { g, x in weightDecay != 0 ? g + weightDecay * x : g }
        if momentum != 0 {
            if let old = buffer {
                buffer = zip(old, d).map { b, g in momentum * b + (1 - dampening) * g }
            } else {
                buffer = d  // torch.clone(d_p).detach()
            }
            d = nesterov ? zip(d, buffer!).map { g, b in g + momentum * b } : buffer!
        }
        p = zip(p, d).map { x, g in x - lr * g }
    }
}

/// torch.optim.Adam (_single_tensor_adam, amsgrad off) for one flat parameter
/// vector; with `decoupled`, torch.optim.AdamW (param.mul_(1 - lr * weight_decay) first).
struct ReferenceAdam {
    var lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double
    var decoupled = false
    var step = 0
    var expAvg: [Double] = []
    var expAvgSq: [Double] = []

    mutating func step(_ p: inout [Double], _ grad: [Double]) {
        if expAvg.isEmpty {
            expAvg = [Double](repeating: 0, count: p.count)
            expAvgSq = expAvg
        }
        step += 1
        let bias1 = 1 - pow(beta1, step), bias2 = 1 - pow(beta2, step)
        for i in p.indices {
            if decoupled { p[i] *= 1 - lr * weightDecay }
            let g = weightDecay != 0 && !decoupled ? grad[i] + weightDecay * p[i] : grad[i]
            expAvg[i] = beta1 * expAvg[i] + (1 - beta1) * g
            expAvgSq[i] = beta2 * expAvgSq[i] + (1 - beta2) * g * g
            let denom = expAvgSq[i].squareRoot() / bias2.squareRoot() + eps
            p[i] -= lr / bias1 * expAvg[i] / denom
        }
    }

    private func pow(_ x: Double, _ n: Int) -> Double { (0..<n).reduce(1) { r, _ in r * x } }
}

/// torch.optim.RMSprop (_single_tensor_rmsprop) for one flat parameter vector.
struct ReferenceRMSprop {
    var lr: Double, alpha: Double, eps: Double, weightDecay: Double, momentum: Double, centered: Bool
    var squareAvg: [Double] = []
    var gradAvg: [Double] = []
    var buffer: [Double] = []

    mutating func step(_ p: inout [Double], _ grad: [Double]) {
        if squareAvg.isEmpty {
            squareAvg = [Double](repeating: 0, count: p.count)
            gradAvg = squareAvg
            buffer = squareAvg
        }
        for i in p.indices {
            let g = weightDecay != 0 ? grad[i] + weightDecay * p[i] : grad[i]
            squareAvg[i] = alpha * squareAvg[i] + (1 - alpha) * g * g
            var avg: Double
            if centered {
                gradAvg[i] = alpha * gradAvg[i] + (1 - alpha) * g
                avg = (squareAvg[i] - gradAvg[i] * gradAvg[i]).squareRoot()
            } else {
                avg = squareAvg[i].squareRoot()
            }
            avg += eps
            if momentum > 0 {
                buffer[i] = momentum * buffer[i] + g / avg
                p[i] -= lr * buffer[i]
            } else {
                p[i] -= lr * g / avg
            }
        }
    }
}

/// A Linear(3, 2) packed into a ParameterSet, with parameter values of
/// magnitude in [1, 2) and a fixed gradient schedule whose signs never
/// change, so no quantity crosses zero and relative errors are meaningful.
struct OptimizerFixture {
    let model: Linear
    let parameters: ParameterSet
    let baseGradient: [Float]

    init(seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        model = Linear(3, 2, generator: &generator)
        parameters = ParameterSet(model)
        for i in 0..<parameters.count {
            let sign: Float = generator.nextFloat() < 0.5 ? -1 : 1
            parameters.values.base[i] = sign * generator.uniform(1, 2)
        }
        baseGradient = (0..<parameters.count).map { _ in
            let sign: Float = generator.nextFloat() < 0.5 ? -1 : 1
            return sign * generator.uniform(0.1, 1)
        }
    }

    /// The gradient written before step `t` (0-based).
    func gradient(at t: Int) -> [Float] { baseGradient.map { $0 * (1 + 0.3 * Float(t)) } }

    func setGradient(at t: Int) {
        for (i, g) in gradient(at: t).enumerated() { parameters.gradients.base[i] = g }
    }

    var values: [Float] { Array(parameters.values.buffer) }
}

/// Expects every element within `relative` of the reference, relative to its magnitude.
func expectRelativelyClose(_ actual: [Float], _ expected: [Double], relative: Double = 1e-6,
                           _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    let worst = zip(actual, expected).map { abs(Double($0) - $1) / abs($1) }.max() ?? 0
    #expect(worst <= relative, "\(what): relative error \(worst)", sourceLocation: sourceLocation)
}

/// Fits y = 3x + 2 with Linear(1, 1) and returns (weight, bias) after `steps` full-batch steps.
func fitLine(steps: Int, makeOptimizer: (ParameterSet) -> any Optimizer) -> (weight: Float, bias: Float) {
    var generator = RandomGenerator(seed: 99)
    let model = Linear(1, 1, generator: &generator)
    let optimizer = makeOptimizer(ParameterSet(model))
    let x = Tensor.uniform([32, 1], low: -1, high: 1, generator: &generator)
    let y = x * 3 + 2
    for _ in 0..<steps {
        optimizer.zeroGrad()
        meanSquaredError(predicted: model(x), expected: y).backward()
        optimizer.step()
    }
    return (model.weight.item(), model.bias!.item())
}
