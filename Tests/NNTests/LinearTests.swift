import NN
import TensorExpectations
import Testing
import TensorCore

// nn.Linear: shapes, PyTorch's initialisation, forward and backward.

/// The course's Linear: forward x @ w.T + b; backward grad_input = grad_output @ w,
/// grad_w = grad_output.T @ x, grad_b = grad_output.sum(0).
private struct LinearFunction: Function {
    func forward(_ inputs: [Tensor], context: FunctionContext) -> Tensor {
        let (x, w, b) = (inputs[0], inputs[1], inputs[2])
        context.saveForBackward(x, w)
        return Tensor.matmul(x, w, transposeB: true) + b
    }

    func backward(_ gradOutput: Tensor, context: FunctionContext) -> [Tensor?] {
        let (x, w) = (context.savedTensors[0], context.savedTensors[1])
        return [Tensor.matmul(gradOutput, w),
                Tensor.matmul(gradOutput, x, transposeA: true),
                gradOutput.sum(axis: 0)]
    }
}

@Test func weightIsOutByInAndBiasIsOut() {
    var generator = RandomGenerator(seed: 1)
    let layer = Linear(5, 3, generator: &generator)
    #expect(layer.weight.shape == [3, 5])
    #expect(layer.bias?.shape == [3])
    #expect(layer.inFeatures == 5)
    #expect(layer.outFeatures == 3)
    #expect(layer.weight.requiresGrad)
    #expect(layer.bias?.requiresGrad == true)
    #expect(layer.configurationDescription == "5 -> 3")
    #expect(layer.namedParameters().map(\.name) == ["weight", "bias"])
    #expect(layer.parameterCount == 18)
}

@Test("initialisation is uniform within ±1/sqrt(in)", arguments: [1, 100, 784])
func initialisationBounds(inFeatures: Int) {
    var generator = RandomGenerator(seed: 2)
    let layer = Linear(inFeatures, 64, generator: &generator)
    let bound = 1 / Float(inFeatures).squareRoot()
    let values = layer.weight.scalars + layer.bias!.scalars
    #expect(values.allSatisfy { abs($0) <= bound })
    // Uses the whole range, both signs.
    #expect(values.max()! > 0.9 * bound)
    #expect(values.min()! < -0.9 * bound)
}

@Test func sameSeedSameInitialisation() {
    var a = RandomGenerator(seed: 3)
    var b = RandomGenerator(seed: 3)
    let first = Linear(4, 6, generator: &a)
    let second = Linear(4, 6, generator: &b)
    #expect(first.weight.scalars == second.weight.scalars)
    #expect(first.bias!.scalars == second.bias!.scalars)
}

@Test func withoutBias() {
    var generator = RandomGenerator(seed: 4)
    let layer = Linear(3, 2, bias: false, generator: &generator)
    #expect(layer.bias == nil)
    #expect(layer.namedParameters().map(\.name) == ["weight"])
    let x = randomTensor([4, 3], seed: 5)
    expectClose(layer(x).scalars, Tensor.matmul(x, layer.weight, transposeB: true).scalars)
}

@Test func forwardIsXTimesWTransposedPlusB() {
    var generator = RandomGenerator(seed: 6)
    let layer = Linear(3, 2, generator: &generator)
    let x = randomTensor([4, 3], seed: 7)
    let (w, b, xs) = (layer.weight.scalars, layer.bias!.scalars, x.scalars)
    var expected: [Float] = []
    for r in 0..<4 {
        for o in 0..<2 {
            var s = b[o]
            for i in 0..<3 { s += xs[r * 3 + i] * w[o * 3 + i] }
            expected.append(s)
        }
    }
    let y = layer(x)
    #expect(y.shape == [4, 2])
    expectClose(y.scalars, expected)
}

@Test func handWrittenLinearFunctionMatchesTheLayer() {
    var generator = RandomGenerator(seed: 8)
    let layer = Linear(6, 4, generator: &generator)
    let w = layer.weight.copy(), b = layer.bias!.copy()
    w.requiresGrad = true
    b.requiresGrad = true
    let x1 = randomTensor([5, 6], seed: 9)
    let x2 = x1.copy()
    x1.requiresGrad = true
    x2.requiresGrad = true

    let fromLayer = layer(x1)
    let fromFunction = LinearFunction()(x2, w, b)
    expectClose(fromFunction.scalars, fromLayer.scalars)
    let upstream = randomTensor([5, 4], seed: 10)
    fromLayer.backward(gradient: upstream)
    fromFunction.backward(gradient: upstream)
    expectClose(x2.grad!.scalars, x1.grad!.scalars)
    expectClose(w.grad!.scalars, layer.weight.grad!.scalars)
    expectClose(b.grad!.scalars, layer.bias!.grad!.scalars)
}
