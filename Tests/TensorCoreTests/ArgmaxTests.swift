import Testing
import TensorCore

// argmax: indices by hand, PyTorch's ties (first maximum) and NaN, no gradient.

@Test func argmaxAlongEachAxis() {
    let x = Tensor(shape: [2, 3], values: [1, 5, 2,
                                           7, 0, 3])
    #expect(x.argmax(axis: 1).shape == [2])
    #expect(x.argmax(axis: 1).scalars == [1, 0])
    #expect(x.argmax(axis: -1).scalars == [1, 0])
    #expect(x.argmax(axis: 0).scalars == [1, 0, 1])
    #expect(x.argmax(axis: 1, keepDim: true).shape == [2, 1])
    #expect(x.argmax().shape == [])
    #expect(x.argmax().item() == 3)
    // A middle axis of a 3-D tensor, and a size-1 axis.
    let y = Tensor(shape: [2, 2, 2], values: [0, 9, 4, 1,
                                              6, 2, 3, 8])
    #expect(y.argmax(axis: 1).scalars == [1, 0, 0, 1])
    #expect(Tensor(shape: [3, 1], values: [4, 5, 6]).argmax(axis: 1).scalars == [0, 0, 0])
}

@Test func argmaxTiesGoToTheFirstMaximumAsInPyTorch() {
    let x = Tensor(shape: [2, 4], values: [2, 7, 7, 1,
                                           3, 3, 3, 3])
    #expect(x.argmax(axis: 1).scalars == [1, 0])
    #expect(Tensor([-1, -1]).argmax().item() == 0)
}

@Test func argmaxTreatsNaNAsTheMaximum() {
    #expect(Tensor([1, .nan, 5, .nan]).argmax().item() == 1)
    #expect(Tensor([.infinity, 1]).argmax().item() == 0)
}

@Test func argmaxHasNoGradient() {
    let x = Tensor([1, 2, 3], requiresGrad: true)
    let i = x.argmax(axis: 0)
    #expect(!i.requiresGrad)
    #expect(i.isLeaf)
}
