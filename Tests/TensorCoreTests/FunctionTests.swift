import Foundation
import Testing
import TensorCore

// Custom `Function`s and the course's hand-checked derivatives.

/// The course's MSE: forward saves the inputs and returns ((y_pred - y)^2).mean();
/// backward returns grad * 2 (y_pred - y) / n (and its negative for y).
struct MSEFunction: Function {
    func forward(_ inputs: [Tensor], context: FunctionContext) -> Tensor {
        context.saveForBackward(inputs[0], inputs[1])
        return (inputs[0] - inputs[1]).pow(2).mean()
    }

    func backward(_ gradOutput: Tensor, context: FunctionContext) -> [Tensor?] {
        let (predicted, expected) = (context.savedTensors[0], context.savedTensors[1])
        let gradPredicted = gradOutput * 2 * (predicted - expected) / Float(predicted.count)
        return [gradPredicted, -gradPredicted]
    }
}

/// The course's Linear: forward x @ w.T + b; backward grad_input = grad_output @ w,
/// grad_w = grad_output.T @ x, grad_b = grad_output.sum(0).
struct LinearFunction: Function {
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

@Test func derivativeOfThreeXPlusFiveIsExactlyThree() {
    let x = Tensor(scalar: 0, requiresGrad: true)
    let y = 3 * x + 5
    #expect(y.item() == 5)
    y.backward()
    #expect(x.grad?.item() == 3)
}

@Test func derivativeOfTwoToTheXAtZeroIsLnTwo() {
    let x = Tensor(scalar: 0, requiresGrad: true)
    let y = pow(2, x)
    #expect(y.item() == 1)
    y.backward()
    #expect(abs(Double(x.grad!.item()) - log(2.0)) < 1e-6)
}

@Test func handWrittenMSEMatchesBuiltIn() {
    let predicted = randomTensor([6, 3], seed: 50)
    let expected = randomTensor([6, 3], seed: 51)
    let p2 = predicted.copy(), e2 = expected.copy()
    for t in [predicted, expected, p2, e2] { t.requiresGrad = true }

    let custom = MSEFunction()(predicted, expected)
    let builtIn = Tensor.meanSquaredError(predicted: p2, expected: e2)
    expectClose([custom.item()], [builtIn.item()], relative: 1e-6)
    custom.backward()
    builtIn.backward()
    expectClose(predicted.grad!.scalars, p2.grad!.scalars, absolute: 1e-7, relative: 1e-6)
    expectClose(expected.grad!.scalars, e2.grad!.scalars, absolute: 1e-7, relative: 1e-6)
}

@Test func handWrittenLinearMatchesBuiltIn() {
    let x = randomTensor([5, 4], seed: 52)
    let w = randomTensor([3, 4], seed: 53)
    let b = randomTensor([3], seed: 54)
    let (x2, w2, b2) = (x.copy(), w.copy(), b.copy())
    for t in [x, w, b, x2, w2, b2] { t.requiresGrad = true }

    let custom = LinearFunction()(x, w, b)
    let builtIn = Tensor.linear(x2, weight: w2, bias: b2)
    #expect(custom.shape == [5, 3])
    expectClose(custom.scalars, builtIn.scalars, relative: 1e-6)
    let upstream = randomTensor([5, 3], seed: 55)
    custom.backward(gradient: upstream)
    builtIn.backward(gradient: upstream)
    expectClose(x.grad!.scalars, x2.grad!.scalars, relative: 1e-6)
    expectClose(w.grad!.scalars, w2.grad!.scalars, relative: 1e-6)
    expectClose(b.grad!.scalars, b2.grad!.scalars, relative: 1e-6)
}

@Test func customFunctionsPassAGradientCheck() {
    let predicted = randomTensor([4, 2], seed: 56)
    let expected = randomTensor([4, 2], seed: 57)
    expectGradientsMatch([predicted, expected]) { MSEFunction()($0[0], $0[1]) }

    let x = randomTensor([3, 4], seed: 58)
    let w = randomTensor([2, 4], seed: 59)
    let b = randomTensor([2], seed: 60)
    expectGradientsMatch([x, w, b]) { LinearFunction()($0[0], $0[1], $0[2]) }
}

@Test func customFunctionComposesWithBuiltIns() {
    // Built-in ops before and after the function, gradient checked through all.
    let x = randomTensor([3, 4], seed: 61)
    let w = randomTensor([2, 4], seed: 62)
    let b = randomTensor([2], seed: 63)
    expectGradientsMatch([x, w, b]) { p in
        LinearFunction()(p[0].tanh(), p[1] * 2, p[2]).sigmoid().sum(axis: 1)
    }
}

@Test func customFunctionIsOneNodeAndRespectsRecording() {
    let x = Tensor([1, 2], requiresGrad: true)
    let y = Tensor([0, 0])
    let loss = MSEFunction()(x, y)
    #expect(loss.requiresGrad)
    #expect(!loss.isLeaf)
    loss.backward()
    #expect(x.grad?.scalars == [1, 2])  // 2 (x - 0) / 2
    #expect(y.grad == nil)              // does not require grad: untouched

    let unrecorded = withNoGrad { MSEFunction()(x, y) }
    #expect(!unrecorded.requiresGrad)
    #expect(unrecorded.isLeaf)
}

@Test func nilGradientLeavesAnInputUntouched() {
    struct FirstOnly: Function {
        func forward(_ inputs: [Tensor], context: FunctionContext) -> Tensor {
            context.values["scale"] = 3
            return inputs[0] * 3 + inputs[1] * 0
        }
        func backward(_ gradOutput: Tensor, context: FunctionContext) -> [Tensor?] {
            [gradOutput * context.values["scale"]!, nil]
        }
    }
    let a = Tensor([1, 2], requiresGrad: true)
    let b = Tensor([5, 6], requiresGrad: true)
    FirstOnly()(a, b).sum().backward()
    #expect(a.grad?.scalars == [3, 3])
    #expect(b.grad == nil)
}
