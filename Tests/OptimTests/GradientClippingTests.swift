import NN
import Optim
import Testing
import TensorCore

// clipGradientNorm against torch.nn.utils.clip_grad_norm_'s rule, in Double.

/// The 2-norm of scale * gradients, in Double.
private func referenceNorm(_ gradients: [Float], scale: Float) -> Double {
    gradients.reduce(0) { sum, g in
        let x = Double(scale) * Double(g)
        return sum + x * x
    }.squareRoot()
}

@Test("clipGradientNorm clips with the gradient scale applied", arguments: [1, 0.25, 1.0 / 3] as [Float])
func clipsToTheMaximumNorm(scale: Float) {
    let fixture = OptimizerFixture(seed: 41)
    fixture.setGradient(at: 2)
    let stored = fixture.gradient(at: 2)
    let norm = referenceNorm(stored, scale: scale)
    let maxNorm = norm / 2

    let returned = clipGradientNorm(fixture.parameters, maxNorm: maxNorm, gradientScale: scale)

    #expect(abs(returned - norm) <= 1e-12 * norm, "norm \(returned) vs reference \(norm)")
    let coefficient = maxNorm / (norm + 1e-6)
    expectRelativelyClose(Array(fixture.parameters.gradients.buffer), stored.map { Double($0) * coefficient },
                          "clipped gradients")
    let after = referenceNorm(Array(fixture.parameters.gradients.buffer), scale: scale)
    #expect(abs(after - maxNorm) <= 1e-5 * maxNorm, "norm after clipping \(after), max \(maxNorm)")
}

@Test func doesNotClipBelowTheMaximumNorm() {
    let fixture = OptimizerFixture(seed: 42)
    fixture.setGradient(at: 1)
    let stored = fixture.gradient(at: 1)
    let norm = referenceNorm(stored, scale: 0.5)
    // Just above: clip_coef = max / (norm + 1e-6) >= 1.
    let returned = clipGradientNorm(fixture.parameters, maxNorm: norm + 1e-6, gradientScale: 0.5)
    #expect(abs(returned - norm) <= 1e-12 * norm)
    #expect(Array(fixture.parameters.gradients.buffer) == stored)
    // The same stored sums read without the scale are over the maximum, and clipped.
    let unscaled = clipGradientNorm(fixture.parameters, maxNorm: norm * 1.5, gradientScale: 1)
    #expect(abs(unscaled - 2 * norm) <= 1e-12 * norm)
    #expect(Array(fixture.parameters.gradients.buffer) != stored)
}

@Test func optimizerClipsWithItsOwnGradientScale() {
    let fixture = OptimizerFixture(seed: 43)
    let sgd = SGD(fixture.parameters, learningRate: 0.1)
    sgd.gradientScale = 0.25
    fixture.setGradient(at: 0)
    let norm = referenceNorm(fixture.gradient(at: 0), scale: 0.25)
    let returned = sgd.clipGradientNorm(maxNorm: norm / 4)
    #expect(abs(returned - norm) <= 1e-12 * norm)
    let after = referenceNorm(Array(fixture.parameters.gradients.buffer), scale: 0.25)
    #expect(abs(after - norm / 4) <= 1e-5 * norm)
}

@Test(arguments: [.nan, .infinity, -.infinity] as [Float])
func nonFiniteNormIsReturnedAndGradientsAreLeftAlone(bad: Float) {
    let fixture = OptimizerFixture(seed: 44)
    fixture.setGradient(at: 0)
    fixture.parameters.gradients.base[3] = bad
    let before = Array(fixture.parameters.gradients.buffer)
    let returned = clipGradientNorm(fixture.parameters, maxNorm: 0.1, gradientScale: 0.5)
    #expect(!returned.isFinite)
    #expect(bad.isNaN ? returned.isNaN : returned == .infinity)
    #expect(zip(Array(fixture.parameters.gradients.buffer), before).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
}

@Test func normOfALargeBufferIsDeterministicAndAccurate() {
    // 10 * 1001 + 10 = 10020 parameters: not a multiple of the kernel's lanes.
    var generator = RandomGenerator(seed: 45)
    let parameters = ParameterSet(Linear(1001, 10, generator: &generator))
    for i in 0..<parameters.count { parameters.gradients.base[i] = generator.uniform(-1e3, 1e3) }
    let gradients = Array(parameters.gradients.buffer)
    let first = clipGradientNorm(parameters, maxNorm: 1e12)
    let second = clipGradientNorm(parameters, maxNorm: 1e12)
    #expect(first == second)
    let reference = referenceNorm(gradients, scale: 1)
    #expect(abs(first - reference) <= 1e-13 * reference, "norm \(first) vs reference \(reference)")
    // Finite Float gradients whose squares overflow Float still give a finite norm.
    parameters.gradients.base[0] = 3e38
    let huge = clipGradientNorm(parameters, maxNorm: 1)
    #expect(huge.isFinite && huge >= 3e38)
    #expect(abs(Double(parameters.gradients.base[0]) - 1) < 1e-4)
}
