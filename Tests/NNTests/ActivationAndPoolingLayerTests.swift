import TensorExpectations
import Testing
import NN
import TensorCore

@Test func leakyReLUAndGELULayersApplyTheirOps() {
    let x = Tensor([-2, -0.5, 0, 1.5])
    #expect(LeakyReLU()(x).scalars == x.leakyReLU().scalars)
    #expect(LeakyReLU(negativeSlope: 0.2)(x).scalars == x.leakyReLU(negativeSlope: 0.2).scalars)
    #expect(GELU()(x).scalars == x.gelu().scalars)
    #expect(LeakyReLU().namedParameters().isEmpty && GELU().namedParameters().isEmpty)
}

@Test func avgPool2dLayerMatchesTheOp() {
    let x = randomTensor([2, 3, 6, 5], seed: 66)
    #expect(AvgPool2d(2)(x).scalars == Tensor.avgPool2d(x, kernelSize: 2).scalars)
    let layer = AvgPool2d(3, stride: 2, padding: 1)
    #expect(layer(x).shape == [2, 3, 3, 3])
    #expect(layer(x).scalars == Tensor.avgPool2d(x, kernelSize: 3, stride: 2, padding: 1).scalars)
    #expect(layer.namedParameters().isEmpty)
}
