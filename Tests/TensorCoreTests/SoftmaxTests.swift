import Foundation
import Testing
import TensorCore

// Values of logSoftmax, softmax and gather.

/// log(softmax) of one row in Double.
private func referenceLogSoftmax(_ row: [Float]) -> [Double] {
    let x = row.map(Double.init)
    let m = x.max()!
    let lse = m + log(x.reduce(0) { $0 + exp($1 - m) })
    return x.map { $0 - lse }
}

@Test func logSoftmaxMatchesReferenceAndExpSumsToOne() {
    let x = randomTensor([4, 10], low: -5, high: 5, seed: 80)
    let y = x.logSoftmax()
    #expect(y.shape == [4, 10])
    let rows = (0..<4).map { Array(x.scalars[$0 * 10..<($0 + 1) * 10]) }
    expectClose(y.scalars, rows.flatMap(referenceLogSoftmax), absolute: 1e-6)
    let rowSums = y.exp().sum(axis: 1).scalars
    expectClose(rowSums, [Float](repeating: 1, count: 4), absolute: 1e-6)
}

@Test func logSoftmaxStaysFiniteForLargeLogits() {
    let x = Tensor(shape: [3, 3], values: [1000, 0, -1000,
                                          1000, 1000, 999,
                                          -1000, -1000, -1000])
    let y = x.logSoftmax()
    #expect(y.scalars.allSatisfy { $0.isFinite })
    // Float's spacing near 1000 is 6e-5, which bounds the accuracy here.
    expectClose(Array(y.scalars[0..<3]), [0, -1000, -2000], absolute: 1e-4)
    let rowSums = y.exp().sum(axis: -1).scalars
    expectClose(rowSums, [1, 1, 1], absolute: 1e-4)
    let p = x.softmax()
    #expect(p.scalars.allSatisfy { $0.isFinite })
    expectClose(Array(p.scalars[6..<9]), [1.0 / 3, 1.0 / 3, 1.0 / 3], absolute: 1e-4)
}

@Test func softmaxAlongAxisZeroNormalisesColumns() {
    let x = randomTensor([5, 3], low: -3, high: 3, seed: 81)
    let p = x.softmax(axis: 0)
    expectClose(p.sum(axis: 0).scalars, [1, 1, 1], absolute: 1e-6)
    let columns = (0..<3).map { j in (0..<5).map { x.scalars[$0 * 3 + j] } }
    let expected = columns.map { referenceLogSoftmax($0).map(exp) }
    let transposedBack = (0..<15).map { expected[$0 % 3][$0 / 3] }
    expectClose(p.scalars, transposedBack, absolute: 1e-6)
}

@Test func softmaxOnTheMiddleAxisOfA3DTensor() {
    let x = randomTensor([2, 4, 3], low: -3, high: 3, seed: 82)
    let sums = x.softmax(axis: 1).sum(axis: 1)
    #expect(sums.shape == [2, 3])
    expectClose(sums.scalars, [Float](repeating: 1, count: 6), absolute: 1e-6)
}

@Test func gatherPicksOneColumnPerRow() {
    let x = Tensor(shape: [3, 4], values: (0..<12).map(Float.init))
    let picked = x.gather(columns: [3, 0, 2])
    #expect(picked.shape == [3])
    #expect(picked.scalars == [3, 4, 10])
}
