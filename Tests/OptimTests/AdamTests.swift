import NN
import Optim
import Testing
import TensorCore

// Adam against torch.optim.Adam's formulas.

struct AdamConfiguration: Sendable, CustomTestStringConvertible {
    var learningRate: Float = 0.01
    var betas: (Float, Float) = (0.9, 0.999)
    var epsilon: Float = 1e-8
    var weightDecay: Float = 0
    var testDescription: String {
        "lr \(learningRate) betas \(betas) eps \(epsilon) weight decay \(weightDecay)"
    }

    static let all = [
        AdamConfiguration(),
        AdamConfiguration(weightDecay: 0.01),
        AdamConfiguration(learningRate: 0.03, betas: (0.8, 0.99), epsilon: 1e-3, weightDecay: 0.02),
    ]
}

@Test("Adam matches the reference over several steps", arguments: AdamConfiguration.all)
func adamMatchesReference(configuration c: AdamConfiguration) {
    let fixture = OptimizerFixture(seed: 11)
    let adam = Adam(fixture.parameters, learningRate: c.learningRate, betas: c.betas,
                    epsilon: c.epsilon, weightDecay: c.weightDecay)
    var reference = ReferenceAdam(lr: Double(c.learningRate), beta1: Double(c.betas.0), beta2: Double(c.betas.1),
                                  eps: Double(c.epsilon), weightDecay: Double(c.weightDecay))
    var expected = fixture.values.map(Double.init)

    for t in 0..<6 {
        fixture.setGradient(at: t)
        adam.step()
        reference.step(&expected, fixture.gradient(at: t).map(Double.init))
        expectRelativelyClose(fixture.values, expected, "parameters after step \(t + 1)")
        expectRelativelyClose(Array(adam.firstMoment.buffer), reference.expAvg, "exp_avg after step \(t + 1)")
        expectRelativelyClose(Array(adam.secondMoment.buffer), reference.expAvgSq, "exp_avg_sq after step \(t + 1)")
    }
    #expect(adam.stepCount == 6)
}

@Test func firstAdamStepMovesEachParameterByAboutTheLearningRate() {
    // With bias correction, step 1 is lr * g / (|g| + eps) = ±lr.
    let fixture = OptimizerFixture(seed: 12)
    let adam = Adam(fixture.parameters, learningRate: 0.01)
    let p = fixture.values
    fixture.setGradient(at: 0)
    adam.step()
    for (i, g) in fixture.gradient(at: 0).enumerated() {
        let moved = p[i] - fixture.values[i]
        #expect(abs(moved - (g > 0 ? 0.01 : -0.01)) < 1e-6)
    }
}

@Test func momentViewsByParameterName() {
    let fixture = OptimizerFixture(seed: 13)
    let adam = Adam(fixture.parameters)
    #expect(adam.typeName == "adam")
    #expect(adam.stateNames == ["exp_avg", "exp_avg_sq"])
    #expect(adam.hyperParameters["lr"] == Double(Float(0.001)))
    fixture.setGradient(at: 0)
    adam.step()
    let g = fixture.gradient(at: 0)
    let expAvg = adam.state("exp_avg", of: "weight")
    let expAvgSq = adam.state("exp_avg_sq", of: "bias")
    #expect(expAvg?.shape == [2, 3])
    #expect(expAvgSq?.shape == [2])
    #expect(expAvg?.scalars == g[0..<6].map { (1 - Float(0.9)) * $0 })
    #expect(expAvgSq?.scalars == g[6..<8].map { (1 - Float(0.999)) * $0 * $0 })
    #expect(adam.state("exp_avg", of: "bias")?.data == adam.firstMoment.base + fixture.parameters.offsets[1])
    #expect(adam.state("momentum_buffer", of: "weight") == nil)
}

@Test func adamFitsALine() {
    let fit = fitLine(steps: 500) { Adam($0, learningRate: 0.05) }
    #expect(abs(fit.weight - 3) < 1e-3 && abs(fit.bias - 2) < 1e-3, "\(fit)")
    let decayed = fitLine(steps: 500) { Adam($0, learningRate: 0.05, weightDecay: 1e-4) }
    #expect(abs(decayed.weight - 3) < 1e-2 && abs(decayed.bias - 2) < 1e-2, "\(decayed)")
}
