import Foundation
import Testing
import TensorCore

// Forward values of the elementwise unary ops against Double math.

@Test func unaryValuesMatchDoubleMath() {
    let x = randomTensor([20], low: 0.1, high: 3, seed: 100)
    let d = x.scalars.map(Double.init)
    expectClose((-x).scalars, d.map { -$0 })
    expectClose(x.exp().scalars, d.map(exp))
    expectClose(x.log().scalars, d.map(log))
    expectClose(x.pow(2).scalars, d.map { $0 * $0 })
    expectClose(x.pow(1.5).scalars, d.map { pow($0, 1.5) })
    expectClose(pow(2, x).scalars, d.map { pow(2, $0) })
    expectClose(x.tanh().scalars, d.map(tanh))

    let y = randomTensor([20], low: -6, high: 6, seed: 101)
    let e = y.scalars.map(Double.init)
    expectClose(y.sigmoid().scalars, e.map { 1 / (1 + exp(-$0)) })
    expectClose(y.relu().scalars, e.map { max($0, 0) })
}

@Test func sigmoidOfLargeInputsIsFinite() {
    let s = Tensor([100, -100, 0]).sigmoid().scalars
    #expect(s.allSatisfy { $0.isFinite })
    #expect(s[0] == 1)
    #expect(s[1] >= 0 && s[1] < 1e-30)
    #expect(s[2] == 0.5)

    let x = Tensor([100, -100], requiresGrad: true)
    x.sigmoid().sum().backward()
    #expect(x.grad!.scalars.allSatisfy { $0.isFinite && $0 >= 0 })
}

@Test func reluPassesGradientOnlyWherePositive() {
    let x = Tensor([-1, 2, -3, 4], requiresGrad: true)
    x.relu().sum().backward()
    #expect(x.grad?.scalars == [0, 1, 0, 1])
}
