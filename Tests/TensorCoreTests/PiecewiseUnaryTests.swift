import Foundation
import Testing
import TensorCore

// abs, clamp, leakyReLU and gelu: values against Double math, PyTorch's
// gradients at the kinks, and finite differences away from them.

@Test func absValuesAndPyTorchsZeroGradientAtZero() {
    let x = Tensor([-2, -0.5, 0, 0.5, 3], requiresGrad: true)
    let y = x.abs()
    #expect(y.scalars == [2, 0.5, 0, 0.5, 3])
    y.sum().backward()
    #expect(x.grad!.scalars == [-1, -1, 0, 1, 1])
}

@Test func clampValuesAndGradientPassingAtExactlyTheBounds() {
    let x = Tensor([-2, -1, -0.5, 0, 1, 1.5], requiresGrad: true)
    let y = x.clamp(min: -1, max: 1)
    #expect(y.scalars == [-1, -1, -0.5, 0, 1, 1])
    y.sum().backward()
    // PyTorch: the gradient passes where min <= x <= max, bounds included.
    #expect(x.grad!.scalars == [0, 1, 1, 1, 1, 0])

    let z = Tensor([-2, 0, 2], requiresGrad: true)
    #expect(z.clamp(min: 0).scalars == [0, 0, 2])
    #expect(z.clamp(max: 0).scalars == [-2, 0, 0])
    z.clamp(min: 0).sum().backward()
    #expect(z.grad!.scalars == [0, 1, 1])
}

@Test func clampWithMinAboveMaxGivesMaxAndNoGradient() {
    let x = Tensor([-1, 0.5, 3], requiresGrad: true)
    let y = x.clamp(min: 2, max: 1)
    #expect(y.scalars == [1, 1, 1])
    y.sum().backward()
    #expect(x.grad!.scalars == [0, 0, 0])
}

@Test func clampKeepsNaN() {
    #expect(Tensor([.nan]).clamp(min: 0, max: 1).item().isNaN)
}

@Test func leakyReLUValuesAndGradientAtZero() {
    let x = Tensor([-2, 0, 3], requiresGrad: true)
    let y = x.leakyReLU()
    expectClose(y.scalars, [-0.02, 0, 3] as [Double])
    y.sum().backward()
    // PyTorch: x > 0 ? 1 : slope, so the slope at 0.
    expectClose(x.grad!.scalars, [0.01, 0.01, 1] as [Double])
    #expect(Tensor([-2, 4]).leakyReLU(negativeSlope: 0.2).scalars == [-0.4, 4])
}

@Test func geluMatchesTheExactErfFormInDouble() {
    let x = Tensor([-5, -3, -1, -0.5, 0, 0.5, 1, 2, 3, 6])
    let d = x.scalars.map(Double.init)
    // x Phi(x), PyTorch's approximate='none'.
    let exact = d.map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
    expectClose(x.gelu().scalars, exact, absolute: 1e-6, relative: 1e-5)
    // Not the tanh approximation: at x = 1 the two differ by about 1.5e-4.
    let tanhForm = 0.5 * (1 + tanh((2 / Double.pi).squareRoot() * (1 + 0.044715)))
    #expect(abs(Double(Tensor([1]).gelu().item()) - tanhForm) > 1e-4)
}

@Test func geluGradientMatchesItsDerivativeInDouble() {
    let x = Tensor([-3, -1, 0, 0.7, 2], requiresGrad: true)
    x.gelu().sum().backward()
    let expected = x.scalars.map(Double.init).map { v in
        0.5 * (1 + erf(v / 2.0.squareRoot())) + v * exp(-v * v / 2) / (2 * Double.pi).squareRoot()
    }
    expectClose(x.grad!.scalars, expected, absolute: 1e-6, relative: 1e-5)
}

@Test func piecewiseUnaryGradientsMatchFiniteDifferences() {
    // Away from the kinks at 0 (abs, leakyReLU) and at the bounds (clamp).
    let x = randomTensorAwayFromZero([4, 5], minimum: 0.1, maximum: 2, seed: 320)
    expectGradientsMatch([x]) { $0[0].abs() }
    expectGradientsMatch([x]) { $0[0].leakyReLU(negativeSlope: 0.2) }
    expectGradientsMatch([x]) { $0[0].gelu() }
    let y = Tensor(shape: [6], values: [-1.5, -0.7, -0.2, 0.3, 0.6, 1.4])
    expectGradientsMatch([y]) { $0[0].clamp(min: -0.5, max: 0.5) }
    expectGradientsMatch([y]) { $0[0].clamp(min: 0) * $0[0] }
}
