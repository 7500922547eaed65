import Foundation
import Testing
import TensorCore

// Values of the fused loss kernels.

@Test func crossEntropyIsMeanNegativeLogSoftmaxOfTheLabels() {
    let logits = randomTensor([6, 5], low: -4, high: 4, seed: 90)
    let labels: [Int32] = [0, 4, 2, 2, 1, 3]
    let fused = Tensor.crossEntropy(logits: logits, labels: labels)
    let composed = (-logits.logSoftmax().gather(columns: labels)).mean()
    #expect(fused.shape == [])
    expectClose([fused.item()], [composed.item()], relative: 1e-6)
}

@Test func crossEntropyGradientIsSoftmaxMinusOneHotOverN() {
    let logits = randomTensor([3, 4], low: -2, high: 2, seed: 91)
    logits.requiresGrad = true
    let labels: [Int32] = [1, 3, 0]
    Tensor.crossEntropy(logits: logits, labels: labels).backward()
    let p = withNoGrad { logits.softmax() }.scalars
    let expected = (0..<12).map { i -> Float in
        (p[i] - (Int32(i % 4) == labels[i / 4] ? 1 : 0)) / 3
    }
    expectClose(logits.grad!.scalars, expected, absolute: 1e-7)
}

@Test func crossEntropyStaysFiniteForLargeLogits() {
    let logits = Tensor(shape: [2, 2], values: [1000, 0, -1000, 1000])
    let loss = Tensor.crossEntropy(logits: logits, labels: [1, 1])
    #expect(loss.item().isFinite)
    expectClose([loss.item()], [500])  // (1000 + 0) / 2
}

@Test func binaryCrossEntropyMatchesTheFormula() {
    let p = randomTensor([10], low: 0.05, high: 0.95, seed: 92)
    let t = randomTensor([10], low: 0, high: 1, seed: 93)
    let expected = zip(p.scalars, t.scalars).reduce(0.0) { s, pair in
        let (pi, ti) = (Double(pair.0), Double(pair.1))
        return s - (ti * log(pi) + (1 - ti) * log(1 - pi))
    } / 10
    expectClose([Tensor.binaryCrossEntropy(predicted: p, expected: t).item()], [expected])
}

@Test func binaryCrossEntropyClampsTheLogAtMinus100() {
    let certainWrong = Tensor.binaryCrossEntropy(predicted: Tensor([0]), expected: Tensor([1]))
    #expect(certainWrong.item() == 100)
    let otherWay = Tensor.binaryCrossEntropy(predicted: Tensor([1]), expected: Tensor([0]))
    #expect(otherWay.item() == 100)
    let certainRight = Tensor.binaryCrossEntropy(predicted: Tensor([1, 0]), expected: Tensor([1, 0]))
    #expect(certainRight.item() == 0)

    // The gradient at the clamp is huge but finite.
    let p = Tensor([0, 1], requiresGrad: true)
    Tensor.binaryCrossEntropy(predicted: p, expected: Tensor([1, 0])).backward()
    #expect(p.grad!.scalars.allSatisfy { $0.isFinite })
    #expect(p.grad!.scalars[0] < 0 && p.grad!.scalars[1] > 0)
}

@Test func meanSquaredErrorMatchesTheFormula() {
    let p = Tensor(shape: [2, 2], values: [1, 2, 3, 4])
    let t = Tensor(shape: [2, 2], values: [0, 2, 5, 3.5])
    let loss = Tensor.meanSquaredError(predicted: p, expected: t).item()
    #expect(loss == 5.25 / 4)  // (1 + 0 + 4 + 0.25) / 4
}
