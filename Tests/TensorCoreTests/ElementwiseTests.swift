import Testing
import TensorCore

// Forward values of the binary ops under broadcasting.

@Test func sameShapeArithmetic() {
    let a = Tensor([1, 2, 3])
    let b = Tensor([4, 5, 6])
    #expect((a + b).scalars == [5, 7, 9])
    #expect((a - b).scalars == [-3, -3, -3])
    #expect((a * b).scalars == [4, 10, 18])
    #expect((b / a).scalars == [4, 2.5, 2])
}

@Test func floatOnEitherSide() {
    let a = Tensor([1, 2, 4])
    #expect((a + 1).scalars == [2, 3, 5])
    #expect((1 + a).scalars == [2, 3, 5])
    #expect((a - 1).scalars == [0, 1, 3])
    #expect((1 - a).scalars == [0, -1, -3])
    #expect((a * 2).scalars == [2, 4, 8])
    #expect((2 * a).scalars == [2, 4, 8])
    #expect((a / 2).scalars == [0.5, 1, 2])
    #expect((2 / a).scalars == [2, 1, 0.5])
    #expect((a + 1).shape == [3])
}

@Test func rowAndColumnBroadcast() {
    let m = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
    let row = Tensor([10, 20, 30])
    let column = Tensor(shape: [2, 1], values: [100, 200])
    #expect((m + row).scalars == [11, 22, 33, 14, 25, 36])
    #expect((row + m).scalars == [11, 22, 33, 14, 25, 36])
    #expect((m + column).scalars == [101, 102, 103, 204, 205, 206])
    #expect((column - m).scalars == [99, 98, 97, 196, 195, 194])
    #expect((m + column).shape == [2, 3])
}

@Test func outerProductAnd3DBroadcast() {
    let column = Tensor(shape: [2, 1], values: [1, 2])
    let row = Tensor(shape: [1, 3], values: [1, 10, 100])
    let outer = column * row
    #expect(outer.shape == [2, 3])
    #expect(outer.scalars == [1, 10, 100, 2, 20, 200])

    let a = Tensor(shape: [2, 1, 2], values: [1, 2, 3, 4])
    let b = Tensor(shape: [3, 1], values: [10, 20, 30])
    let c = a * b
    #expect(c.shape == [2, 3, 2])
    #expect(c.scalars == [10, 20, 20, 40, 30, 60, 30, 40, 60, 80, 90, 120])
}
