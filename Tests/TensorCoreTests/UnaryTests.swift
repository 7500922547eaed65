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

@Test("tanh is within 2 ulp of Double's over [-20, 20], odd, and exact at the edges")
func tanhAccuracy() {
    let values = (0..<20_001).map { Float($0 - 10_000) / 500 } + [1e-30, 1e-8, 0.6249, 0.625, 0.6251, 9, 44, 100]
    let y = Tensor(values).tanh().scalars
    for (x, t) in zip(values, y) {
        let reference = Foundation.tanh(Double(x))
        let ulp = Double(Float(reference).ulp)
        #expect(Swift.abs(Double(t) - reference) <= 2 * ulp, "tanh(\(x)) = \(t), Double says \(reference)")
    }
    let odd = Tensor(values.map { -$0 }).tanh().scalars
    #expect(zip(y, odd).allSatisfy { $0 == -$1 })
    let edges = Tensor([0, -0.0, 100, -100, .infinity, -.infinity, .nan]).tanh().scalars
    #expect(edges[0] == 0 && edges[1] == 0 && edges[1].sign == .minus)
    #expect(edges[2] == 1 && edges[3] == -1 && edges[4] == 1 && edges[5] == -1)
    #expect(edges[6].isNaN)
}

@Test("tanh and sigmoid give each element the same bits alone as inside a vector")
func activationsDoNotDependOnPosition() {
    let x = randomTensor([37], low: -5, high: 5, seed: 102)
    for op in [{ (t: Tensor) in t.tanh() }, { (t: Tensor) in t.sigmoid() }] {
        let together = op(x).scalars
        let alone = x.scalars.map { op(Tensor([$0])).scalars[0] }
        #expect(together == alone)
    }
}
