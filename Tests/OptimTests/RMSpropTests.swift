import NN
import Optim
import Testing
import TensorCore

// RMSprop against torch.optim.RMSprop's formulas.

struct RMSpropConfiguration: Sendable, CustomTestStringConvertible {
    var learningRate: Float = 0.01
    var alpha: Float = 0.99
    var epsilon: Float = 1e-8
    var weightDecay: Float = 0
    var momentum: Float = 0
    var centered = false
    var testDescription: String {
        "lr \(learningRate) alpha \(alpha) eps \(epsilon) weight decay \(weightDecay) momentum \(momentum) centered \(centered)"
    }

    // Learning rates small enough that no parameter crosses zero in six steps
    // (RMSprop's first steps are about lr / sqrt(1 - alpha)).
    static let all = [
        RMSpropConfiguration(),
        RMSpropConfiguration(learningRate: 0.002, momentum: 0.9),
        RMSpropConfiguration(learningRate: 0.005, centered: true),
        RMSpropConfiguration(weightDecay: 0.01),
        RMSpropConfiguration(learningRate: 0.001, alpha: 0.9, epsilon: 1e-3, weightDecay: 0.02, momentum: 0.5,
                             centered: true),
        // 1 - alpha >= 0.5 takes torch's other lerp formula for grad_avg.
        RMSpropConfiguration(learningRate: 0.001, alpha: 0.4, centered: true),
    ]
}

@Test("RMSprop matches the reference over several steps", arguments: RMSpropConfiguration.all)
func rmspropMatchesReference(configuration c: RMSpropConfiguration) {
    let fixture = OptimizerFixture(seed: 21)
    let rmsprop = RMSprop(fixture.parameters, learningRate: c.learningRate, alpha: c.alpha, epsilon: c.epsilon,
                          weightDecay: c.weightDecay, momentum: c.momentum, centered: c.centered)
    rmsprop.gradientScale = 1.0 / 3
    var reference = ReferenceRMSprop(lr: Double(c.learningRate), alpha: Double(c.alpha), eps: Double(c.epsilon),
                                     weightDecay: Double(c.weightDecay), momentum: Double(c.momentum),
                                     centered: c.centered)
    var expected = fixture.values.map(Double.init)
    let start = fixture.values

    for t in 0..<6 {
        fixture.setGradient(at: t)
        rmsprop.step()
        reference.step(&expected, fixture.gradient(at: t).map { Double($0) * Double(rmsprop.gradientScale) })
        expectRelativelyClose(fixture.values, expected, "parameters after step \(t + 1)")
        expectRelativelyClose(Array(rmsprop.squareAverage.buffer), reference.squareAvg, "square_avg after step \(t + 1)")
        if c.centered {
            expectRelativelyClose(Array(rmsprop.gradientAverage.buffer), reference.gradAvg, "grad_avg after step \(t + 1)")
        }
        if c.momentum > 0 {
            expectRelativelyClose(Array(rmsprop.momentumBuffer.buffer), reference.buffer,
                                  "momentum_buffer after step \(t + 1)")
        }
    }
    #expect(rmsprop.stepCount == 6)
    #expect(fixture.values != start)
}

@Test func rmspropStateByTorchName() {
    let fixture = OptimizerFixture(seed: 22)
    let plain = RMSprop(fixture.parameters)
    #expect(plain.typeName == "rmsprop")
    #expect(plain.stateNames == ["square_avg"])
    #expect(plain.stateBuffer("momentum_buffer") == nil && plain.stateBuffer("grad_avg") == nil)
    #expect(plain.hyperParameters == ["lr": Double(Float(0.01)), "alpha": Double(Float(0.99)),
                                      "eps": Double(Float(1e-8)), "weight_decay": 0, "momentum": 0, "centered": 0])

    let full = RMSprop(fixture.parameters, momentum: 0.9, centered: true)
    #expect(full.stateNames == ["square_avg", "momentum_buffer", "grad_avg"])
    #expect(full.hyperParameters["centered"] == 1 && full.hyperParameters["momentum"] == Double(Float(0.9)))
    fixture.setGradient(at: 0)
    full.step()
    let g = fixture.gradient(at: 0)
    let squareAvg = full.state("square_avg", of: "weight")
    let gradAvg = full.state("grad_avg", of: "bias")
    #expect(squareAvg?.shape == [2, 3])
    #expect(gradAvg?.shape == [2])
    #expect(squareAvg?.scalars == g[0..<6].map { (1 - Float(0.99)) * $0 * $0 })
    #expect(gradAvg?.scalars == g[6..<8].map { (1 - Float(0.99)) * $0 })
    #expect(full.state("momentum_buffer", of: "bias")?.data == full.momentumBuffer.base + fixture.parameters.offsets[1])
    #expect(full.state("exp_avg", of: "weight") == nil)
}

@Test func rmspropFitsALine() {
    let plain = fitLine(steps: 500) { RMSprop($0, learningRate: 0.01) }
    #expect(abs(plain.weight - 3) < 2e-2 && abs(plain.bias - 2) < 2e-2, "\(plain)")
    let centered = fitLine(steps: 500) { RMSprop($0, learningRate: 0.003, momentum: 0.9, centered: true) }
    #expect(abs(centered.weight - 3) < 2e-2 && abs(centered.bias - 2) < 2e-2, "\(centered)")
}
