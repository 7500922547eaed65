import NN
import Optim
import Testing
import TensorCore

// SGD against torch.optim.SGD's formulas.

struct SGDConfiguration: Sendable, CustomTestStringConvertible {
    var learningRate: Float = 0.01
    var momentum: Float = 0
    var dampening: Float = 0
    var nesterov = false
    var weightDecay: Float = 0
    var testDescription: String {
        "lr \(learningRate) momentum \(momentum) dampening \(dampening) nesterov \(nesterov) weight decay \(weightDecay)"
    }

    static let all = [
        SGDConfiguration(),
        SGDConfiguration(momentum: 0.9),
        SGDConfiguration(momentum: 0.9, dampening: 0.5),
        SGDConfiguration(momentum: 0.9, nesterov: true),
        SGDConfiguration(weightDecay: 0.01),
        SGDConfiguration(learningRate: 0.02, momentum: 0.8, dampening: 0.1, weightDecay: 0.01),
        SGDConfiguration(momentum: 0.9, nesterov: true, weightDecay: 0.01),
    ]
}

@Test("SGD matches the reference over several steps", arguments: SGDConfiguration.all)
func sgdMatchesReference(configuration c: SGDConfiguration) {
    let fixture = OptimizerFixture(seed: 1)
    let sgd = SGD(fixture.parameters, learningRate: c.learningRate, momentum: c.momentum,
                  dampening: c.dampening, nesterov: c.nesterov, weightDecay: c.weightDecay)
    var reference = ReferenceSGD(lr: Double(c.learningRate), momentum: Double(c.momentum),
                                 dampening: Double(c.dampening), nesterov: c.nesterov,
                                 weightDecay: Double(c.weightDecay))
    var expected = fixture.values.map(Double.init)
    let start = fixture.values

    for t in 0..<6 {
        fixture.setGradient(at: t)
        sgd.step()
        reference.step(&expected, fixture.gradient(at: t).map(Double.init))
        expectRelativelyClose(fixture.values, expected, "parameters after step \(t + 1)")
        if let buffer = reference.buffer {
            expectRelativelyClose(Array(sgd.momentumBuffer.buffer), buffer, "momentum buffer after step \(t + 1)")
        }
    }
    #expect(sgd.stepCount == 6)
    #expect(fixture.values != start)
}

@Test func firstMomentumStepSetsTheBufferToTheGradient() {
    // Dampening does not apply to the first step (torch clones d_p).
    let fixture = OptimizerFixture(seed: 2)
    let sgd = SGD(fixture.parameters, learningRate: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.01)
    let p = fixture.values
    fixture.setGradient(at: 0)
    sgd.step()
    let g = fixture.gradient(at: 0)
    let expected = zip(g, p).map { $0 + 0.01 * $1 }
    #expect(Array(sgd.momentumBuffer.buffer) == expected)
    #expect(fixture.values == zip(p, expected).map { $0 - 0.1 * $1 })
}

@Test func plainSGDStep() {
    let fixture = OptimizerFixture(seed: 3)
    let sgd = SGD(fixture.parameters, learningRate: 0.5)
    let p = fixture.values
    fixture.setGradient(at: 0)
    sgd.step()
    #expect(fixture.values == zip(p, fixture.gradient(at: 0)).map { $0 - 0.5 * $1 })
    #expect(sgd.stateNames.isEmpty)
    #expect(sgd.state("momentum_buffer", of: "weight") == nil)
}

@Test func momentumBufferViewsByParameterName() {
    let fixture = OptimizerFixture(seed: 4)
    let sgd = SGD(fixture.parameters, learningRate: 0.1, momentum: 0.9)
    #expect(sgd.typeName == "sgd")
    #expect(sgd.stateNames == ["momentum_buffer"])
    #expect(sgd.hyperParameters["momentum"] == Double(Float(0.9)))
    fixture.setGradient(at: 0)
    sgd.step()
    let g = fixture.gradient(at: 0)
    let weight = sgd.state("momentum_buffer", of: "weight")
    let bias = sgd.state("momentum_buffer", of: "bias")
    #expect(weight?.shape == [2, 3])
    #expect(bias?.shape == [2])
    #expect(weight?.scalars == Array(g[0..<6]))
    #expect(bias?.scalars == Array(g[6..<8]))
    #expect(sgd.state("exp_avg", of: "weight") == nil)
    #expect(sgd.state("momentum_buffer", of: "missing") == nil)
}

@Test func zeroGradClearsTheFlatGradients() {
    let fixture = OptimizerFixture(seed: 5)
    let sgd = SGD(fixture.parameters, learningRate: 0.1)
    fixture.setGradient(at: 0)
    sgd.zeroGrad()
    #expect(fixture.parameters.gradients.buffer.allSatisfy { $0 == 0 })
}

@Test func sgdFitsALine() {
    let plain = fitLine(steps: 300) { SGD($0, learningRate: 0.3) }
    #expect(abs(plain.weight - 3) < 1e-3 && abs(plain.bias - 2) < 1e-3, "\(plain)")
    let momentum = fitLine(steps: 300) { SGD($0, learningRate: 0.05, momentum: 0.9, nesterov: true) }
    #expect(abs(momentum.weight - 3) < 1e-3 && abs(momentum.bias - 2) < 1e-3, "\(momentum)")
}
