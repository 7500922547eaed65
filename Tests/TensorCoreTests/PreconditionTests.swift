import Testing
import TensorCore

// Misuse stops the process with a precondition failure (run as exit tests).

@Test func incompatibleBroadcastStops() async {
    await #expect(processExitsWith: .failure) {
        _ = Tensor.zeros([2, 3]) + Tensor.zeros([2])
    }
}

@Test func matmulInnerDimensionMismatchStops() async {
    await #expect(processExitsWith: .failure) {
        _ = Tensor.matmul(Tensor.zeros([2, 3]), Tensor.zeros([2, 3]))
    }
}

@Test func backwardFromANonScalarWithoutAGradientStops() async {
    await #expect(processExitsWith: .failure) {
        (Tensor.zeros([2], requiresGrad: true) * 2).backward()
    }
}

@Test func labelOutOfRangeStops() async {
    await #expect(processExitsWith: .failure) {
        _ = Tensor.crossEntropy(logits: Tensor.zeros([2, 3]), labels: [0, 3])
    }
}

@Test func selectIndexOutOfRangeStops() async {
    await #expect(processExitsWith: .failure) {
        _ = Tensor.zeros([2, 3]).select(axis: 1, 3)
    }
}

@Test func permuteWithARepeatedDimensionStops() async {
    await #expect(processExitsWith: .failure) {
        _ = Tensor.zeros([2, 3]).permuted([0, 0])
    }
}

@Test func embeddingIndexOutOfRangeStops() async {
    await #expect(processExitsWith: .failure) {
        _ = Tensor.embedding(Tensor([0, 4]), weight: Tensor.zeros([4, 2]))
    }
}

@Test func embeddingNonIntegralIndexStops() async {
    await #expect(processExitsWith: .failure) {
        _ = Tensor.embedding(Tensor([1.5]), weight: Tensor.zeros([4, 2]))
    }
}
