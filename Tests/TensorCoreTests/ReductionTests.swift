import Testing
import TensorCore

// Forward values and shapes of sum and mean.

/// x[i, j, k] = 100 i + 10 j + k for shape [2, 3, 4].
private func indexTensor() -> Tensor {
    var values: [Float] = []
    for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { values.append(Float(100 * i + 10 * j + k)) } } }
    return Tensor(shape: [2, 3, 4], values: values)
}

@Test func wholeTensorSumAndMean() {
    let x = indexTensor()
    #expect(x.sum().shape == [])
    // 100 * 12 + 10 * (0 + 1 + 2) * 8 + (0 + 1 + 2 + 3) * 6
    #expect(x.sum().item() == 1476)
    #expect(x.mean().item() == 61.5)  // 1476 / 24
}

@Test func sumAlongEachAxis() {
    let x = indexTensor()
    let s0 = x.sum(axis: 0)
    #expect(s0.shape == [3, 4])
    let expected0: [Float] = (0..<12).map { (j: Int) -> Float in Float(100 + 2 * (10 * (j / 4) + j % 4)) }
    #expect(s0.scalars == expected0)
    let s1 = x.sum(axis: 1)
    #expect(s1.shape == [2, 4])
    #expect(s1.scalars == [30, 33, 36, 39, 330, 333, 336, 339])
    let s2 = x.sum(axis: -1)
    #expect(s2.shape == [2, 3])
    #expect(s2.scalars == [6, 46, 86, 406, 446, 486])
    #expect(x.sum(axis: 2).scalars == s2.scalars)
}

@Test func keepDimKeepsAOne() {
    let x = indexTensor()
    #expect(x.sum(axis: 0, keepDim: true).shape == [1, 3, 4])
    #expect(x.sum(axis: 1, keepDim: true).shape == [2, 1, 4])
    #expect(x.mean(axis: -1, keepDim: true).shape == [2, 3, 1])
    #expect(x.sum(axis: 1, keepDim: true).scalars == x.sum(axis: 1).scalars)
}

@Test func meanAlongAnAxis() {
    let x = indexTensor()
    #expect(x.mean(axis: 1).scalars == [10, 11, 12, 13, 110, 111, 112, 113])
    #expect(x.mean(axis: -1).scalars == [1.5, 11.5, 21.5, 101.5, 111.5, 121.5])
    #expect(x.mean(axis: 0).shape == [3, 4])
}
