import NN
import Optim
import Testing
import TensorCore

// AdamW against torch.optim.AdamW's formulas (Adam with decoupled weight decay).

@Test("AdamW matches the reference over several steps", arguments: [
    AdamConfiguration(weightDecay: 0.01),
    AdamConfiguration(learningRate: 0.03, betas: (0.8, 0.99), epsilon: 1e-3, weightDecay: 0.1),
    AdamConfiguration(learningRate: 0.01, betas: (0.3, 0.9), weightDecay: 0.05),  // lerp's other formula
])
func adamWMatchesReference(configuration c: AdamConfiguration) {
    let fixture = OptimizerFixture(seed: 31)
    let adamW = AdamW(fixture.parameters, learningRate: c.learningRate, betas: c.betas,
                      epsilon: c.epsilon, weightDecay: c.weightDecay)
    adamW.gradientScale = 0.3
    var reference = ReferenceAdam(lr: Double(c.learningRate), beta1: Double(c.betas.0), beta2: Double(c.betas.1),
                                  eps: Double(c.epsilon), weightDecay: Double(c.weightDecay), decoupled: true)
    var expected = fixture.values.map(Double.init)

    for t in 0..<6 {
        fixture.setGradient(at: t)
        adamW.step()
        reference.step(&expected, fixture.gradient(at: t).map { Double($0) * Double(adamW.gradientScale) })
        expectRelativelyClose(fixture.values, expected, "parameters after step \(t + 1)")
        expectRelativelyClose(Array(adamW.firstMoment.buffer), reference.expAvg, "exp_avg after step \(t + 1)")
        expectRelativelyClose(Array(adamW.secondMoment.buffer), reference.expAvgSq, "exp_avg_sq after step \(t + 1)")
    }
    #expect(adamW.stepCount == 6)
}

@Test func adamWDefaultsAndNames() {
    let fixture = OptimizerFixture(seed: 32)
    let adamW = AdamW(fixture.parameters)
    #expect(adamW.typeName == "adamw")
    #expect(adamW.stateNames == ["exp_avg", "exp_avg_sq"])
    #expect(adamW.weightDecay == 0.01 && adamW.learningRate == 0.001 && adamW.decoupledWeightDecay)
    #expect(adamW.hyperParameters["weight_decay"] == Double(Float(0.01)))
    #expect(Adam(fixture.parameters, weightDecay: 0.01, decoupledWeightDecay: true).typeName == "adamw")
}

@Test func adamWWithoutWeightDecayIsAdamBitwise() {
    let a = OptimizerFixture(seed: 33), b = OptimizerFixture(seed: 33)
    let adam = Adam(a.parameters, learningRate: 0.01)
    let adamW = AdamW(b.parameters, learningRate: 0.01, weightDecay: 0)
    adam.gradientScale = 0.5
    adamW.gradientScale = 0.5
    for t in 0..<4 {
        a.setGradient(at: t)
        b.setGradient(at: t)
        adam.step()
        adamW.step()
    }
    // By construction: one kernel body; AdamW's decay factor 1 - lr * 0 is exactly 1.
    #expect(a.values == b.values)
    #expect(Array(adam.secondMoment.buffer) == Array(adamW.secondMoment.buffer))
}

@Test func adamWDecaysTheParametersNotTheGradient() {
    // With a zero gradient Adam's moments stay zero and the step is the decay alone.
    let fixture = OptimizerFixture(seed: 34)
    let adamW = AdamW(fixture.parameters, learningRate: 0.1, weightDecay: 0.5)
    let p = fixture.values
    fixture.parameters.zeroGrad()
    adamW.step()
    #expect(fixture.values == p.map { $0 * Float(1 - Double(Float(0.1)) * Double(Float(0.5))) })
    #expect(adamW.firstMoment.buffer.allSatisfy { $0 == 0 })
}

@Test func adamWFitsALine() {
    let fit = fitLine(steps: 500) { AdamW($0, learningRate: 0.05, weightDecay: 1e-4) }
    #expect(abs(fit.weight - 3) < 1e-2 && abs(fit.bias - 2) < 1e-2, "\(fit)")
}
