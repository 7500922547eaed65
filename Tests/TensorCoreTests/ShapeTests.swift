import Testing
import TensorCore

// Forward values of reshape, flatten, transpose, slice and concatenate.

private func iota(_ shape: [Int]) -> Tensor {
    Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map(Float.init))
}

@Test func reshapeSharesMemoryAndInfersMinusOne() {
    let x = iota([2, 3, 4])
    let y = x.reshaped([4, -1])
    #expect(y.shape == [4, 6])
    #expect(y.scalars == x.scalars)
    #expect(y.data == x.data)
    #expect(x.reshaped([-1]).shape == [24])
}

@Test func flattenKeepsTheBatchDimension() {
    let x = iota([2, 1, 3, 2])
    let y = x.flattened()
    #expect(y.shape == [2, 6])
    #expect(y.scalars == x.scalars)
}

@Test func transposeSwapsAxes() {
    let m = iota([2, 3])
    let t = m.transposed()
    #expect(t.shape == [3, 2])
    #expect(t.scalars == [0, 3, 1, 4, 2, 5])

    let x = iota([2, 3, 4])
    let y = x.transposed(0, 2)
    #expect(y.shape == [4, 3, 2])
    // y[k, j, i] = x[i, j, k] = 12 i + 4 j + k
    var expected: [Float] = []
    for k in 0..<4 { for j in 0..<3 { for i in 0..<2 { expected.append(Float(12 * i + 4 * j + k)) } } }
    #expect(y.scalars == expected)
    #expect(x.transposed(0, 1).transposed(0, 1).scalars == x.scalars)
}

@Test func sliceAlongAxes() {
    let x = iota([4, 3])
    let rows = x.slice(axis: 0, 1..<3)
    #expect(rows.shape == [2, 3])
    #expect(rows.scalars == [3, 4, 5, 6, 7, 8])
    let columns = x.slice(axis: 1, 1..<3)
    #expect(columns.shape == [4, 2])
    #expect(columns.scalars == [1, 2, 4, 5, 7, 8, 10, 11])
    #expect(x.slice(2..<2).shape == [0, 3])
}

@Test func concatenateAlongAxes() {
    let a = iota([2, 2])
    let b = iota([1, 2]) + 10
    let rows = Tensor.concatenate([a, b], axis: 0)
    #expect(rows.shape == [3, 2])
    #expect(rows.scalars == [0, 1, 2, 3, 10, 11])
    let c = iota([2, 1]) + 20
    let columns = Tensor.concatenate([a, c], axis: 1)
    #expect(columns.shape == [2, 3])
    #expect(columns.scalars == [0, 1, 20, 2, 3, 21])
    #expect(Tensor.concatenate([a, c], axis: -1).scalars == columns.scalars)
}
