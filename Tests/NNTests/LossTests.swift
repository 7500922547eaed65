import NN
import TensorExpectations
import Testing
import TensorCore

// The NN loss functions are the TensorCore kernels under their course names.

@Test func crossEntropyWrapper() {
    let logits = randomTensor([4, 3], seed: 50)
    let labels: [Int32] = [2, 0, 1, 1]
    #expect(crossEntropy(logits: logits, labels: labels).item()
        == Tensor.crossEntropy(logits: logits, labels: labels).item())
}

@Test func binaryCrossEntropyWrapper() {
    let p = randomTensor([5], low: 0.1, high: 0.9, seed: 51)
    let t = randomTensor([5], low: 0, high: 1, seed: 52)
    #expect(binaryCrossEntropy(predicted: p, expected: t).item()
        == Tensor.binaryCrossEntropy(predicted: p, expected: t).item())
}

@Test func meanSquaredErrorWrapperAndGradients() {
    let p = randomTensor([2, 3], seed: 53)
    let t = randomTensor([2, 3], seed: 54)
    p.requiresGrad = true
    t.requiresGrad = true
    let loss = meanSquaredError(predicted: p, expected: t)
    #expect(loss.item() == Tensor.meanSquaredError(predicted: p, expected: t).item())
    loss.backward()
    let difference = zip(p.scalars, t.scalars).map { 2 * ($0 - $1) / 6 }
    expectClose(p.grad!.scalars, difference)
    expectClose(t.grad!.scalars, difference.map { -$0 })
}
