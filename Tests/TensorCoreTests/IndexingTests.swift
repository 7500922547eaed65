import Testing
import TensorCore

// select, split, unbind and stack: values by hand, gradients against finite
// differences (see FiniteDifference.swift).

private func iota(_ shape: [Int]) -> Tensor {
    Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map(Float.init))
}

@Test func selectPicksOneIndexAndDropsTheAxis() {
    let x = iota([2, 3, 4])  // x[i, j, k] = 12 i + 4 j + k
    let t = x.select(axis: 1, 2)  // x[:, 2]
    #expect(t.shape == [2, 4])
    #expect(t.scalars == [8, 9, 10, 11, 20, 21, 22, 23])
    #expect(x.select(axis: 0, 1).shape == [3, 4])
    #expect(x.select(axis: 0, 1).scalars == Array(12..<24).map(Float.init))
    // The last axis, negative axis and negative index.
    #expect(x.select(axis: -1, -1).scalars == [3, 7, 11, 15, 19, 23])
    #expect(x.select(axis: 2, 3).scalars == [3, 7, 11, 15, 19, 23])
    // A size-1 axis, and a 1-D tensor down to a scalar.
    #expect(iota([3, 1]).select(axis: 1, 0).scalars == [0, 1, 2])
    let s = Tensor([5, 6, 7]).select(axis: 0, 1)
    #expect(s.shape == [])
    #expect(s.item() == 6)
}

@Test("select gradients", arguments: [(0, 1), (1, 2), (-1, 0), (2, -1)])
func selectGradients(axis: Int, index: Int) {
    let x = randomTensor([2, 3, 4], seed: 310)
    expectGradientsMatch([x]) { $0[0].select(axis: axis, index) }
    // The same slot selected twice gets both gradients.
    expectGradientsMatch([x]) { $0[0].select(axis: axis, index) * $0[0].select(axis: axis, index) }
}

@Test func splitCutsPiecesWithASmallerLast() {
    let x = iota([5, 2])
    let pieces = x.split(2)
    #expect(pieces.map(\.shape) == [[2, 2], [2, 2], [1, 2]])
    #expect(pieces.map(\.scalars) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    #expect(x.split(5).map(\.shape) == [[5, 2]])
    #expect(x.split(7).map(\.shape) == [[5, 2]])
    let columns = x.split(1, axis: -1)
    #expect(columns.map(\.shape) == [[5, 1], [5, 1]])
    #expect(columns[1].scalars == [1, 3, 5, 7, 9])
}

@Test func splitGradients() {
    let x = randomTensor([2, 5, 3], seed: 311)
    expectGradientsMatch([x]) {
        let p = $0[0].split(2, axis: 1)
        return Tensor.concatenate([p[2] * 3, p[0].exp(), p[1] * p[1]], axis: 1)
    }
}

@Test func unbindGivesEverySliceWithoutTheAxis() {
    let x = iota([2, 3])
    let rows = x.unbind()
    #expect(rows.map(\.shape) == [[3], [3]])
    #expect(rows.map(\.scalars) == [[0, 1, 2], [3, 4, 5]])
    let columns = x.unbind(axis: -1)
    #expect(columns.map(\.scalars) == [[0, 3], [1, 4], [2, 5]])
}

@Test func stackJoinsAlongANewAxis() {
    let a = Tensor([1, 2, 3]), b = Tensor([4, 5, 6])
    #expect(Tensor.stack([a, b]).shape == [2, 3])
    #expect(Tensor.stack([a, b]).scalars == [1, 2, 3, 4, 5, 6])
    #expect(Tensor.stack([a, b], axis: 1).shape == [3, 2])
    #expect(Tensor.stack([a, b], axis: -1).scalars == [1, 4, 2, 5, 3, 6])
    #expect(Tensor.stack([a]).shape == [1, 3])
    // stack is the inverse of unbind along any axis.
    let x = iota([2, 3, 4])
    for axis in [0, 1, 2, -1] {
        let back = Tensor.stack(x.unbind(axis: axis), axis: axis)
        #expect(back.shape == x.shape)
        #expect(back.scalars == x.scalars)
    }
    // Scalars stack into a vector.
    #expect(Tensor.stack([Tensor(scalar: 1), Tensor(scalar: 2)]).scalars == [1, 2])
}

@Test("stack and unbind gradients", arguments: [0, 1, -1])
func stackGradients(axis: Int) {
    let a = randomTensor([2, 3], seed: 312), b = randomTensor([2, 3], seed: 313)
    expectGradientsMatch([a, b]) { Tensor.stack([$0[0], $0[1] * $0[1], $0[0]], axis: axis) }
    expectGradientsMatch([a]) {
        let parts = $0[0].unbind(axis: axis)
        return Tensor.stack(parts.reversed().map { $0.exp() }, axis: axis)
    }
}
