import Testing
import TensorCore

// Every op's backward rule against central differences (see FiniteDifference.swift).

/// The four arithmetic operators, for parameterised tests.
enum BinaryOp: String, CaseIterable, Sendable {
    case add, subtract, multiply, divide

    func callAsFunction(_ a: Tensor, _ b: Tensor) -> Tensor {
        switch self {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        }
    }

    func callAsFunction(_ a: Tensor, _ s: Float) -> Tensor {
        switch self {
        case .add: a + s
        case .subtract: a - s
        case .multiply: a * s
        case .divide: a / s
        }
    }

    func callAsFunction(_ s: Float, _ b: Tensor) -> Tensor {
        switch self {
        case .add: s + b
        case .subtract: s - b
        case .multiply: s * b
        case .divide: s / b
        }
    }
}

/// Two operand shapes and the broadcast they exercise.
struct ShapePair: Sendable, CustomTestStringConvertible {
    let a: [Int]
    let b: [Int]
    let kind: String
    var testDescription: String { "\(kind) \(a) with \(b)" }

    static let all: [ShapePair] = [
        ShapePair(a: [3, 4], b: [3, 4], kind: "same shape"),
        ShapePair(a: [3, 4], b: [], kind: "scalar tensor on the right"),
        ShapePair(a: [], b: [3, 4], kind: "scalar tensor on the left"),
        ShapePair(a: [3, 4], b: [4], kind: "row broadcast"),
        ShapePair(a: [4], b: [3, 4], kind: "row broadcast on the left"),
        ShapePair(a: [3, 1], b: [3, 4], kind: "column broadcast"),
        ShapePair(a: [3, 4], b: [3, 1], kind: "column broadcast on the right"),
        ShapePair(a: [2, 1, 4], b: [3, 1], kind: "3-D broadcast of both"),
        ShapePair(a: [2, 3, 4], b: [1, 3, 1], kind: "3-D middle axis"),
    ]
}

/// Denominators and the like: magnitudes in [0.5, 1.5), random signs.
private func safeDivisor(_ shape: [Int], seed: UInt64) -> Tensor {
    randomTensorAwayFromZero(shape, minimum: 0.5, maximum: 1.5, seed: seed)
}

@Test("binary op gradients with broadcasting", arguments: BinaryOp.allCases, ShapePair.all)
func binaryGradients(op: BinaryOp, shapes: ShapePair) {
    let a = randomTensor(shapes.a, seed: 1)
    let b = safeDivisor(shapes.b, seed: 2)
    expectGradientsMatch([a, b]) { op($0[0], $0[1]) }
}

@Test("binary op gradients with a Float on either side", arguments: BinaryOp.allCases)
func scalarOperandGradients(op: BinaryOp) {
    let x = safeDivisor([3, 4], seed: 3)
    expectGradientsMatch([x]) { op($0[0], 1.7) }
    expectGradientsMatch([x]) { op(-0.6, $0[0]) }
}

@Test("a tensor on both sides of an operator", arguments: BinaryOp.allCases)
func sameTensorBothSides(op: BinaryOp) {
    let x = safeDivisor([5], seed: 4)
    expectGradientsMatch([x]) { op($0[0], $0[0]) * $0[0] }
}

/// Unary ops with the input range each one needs.
enum UnaryCase: String, CaseIterable, Sendable {
    case negate, exp, log, square, cube, powOnePointFive, powMinusHalf, twoToThe, halfToThe, relu, sigmoid, tanh

    func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .negate: -x
        case .exp: x.exp()
        case .log: x.log()
        case .square: x.pow(2)
        case .cube: pow(x, 3)
        case .powOnePointFive: x.pow(1.5)
        case .powMinusHalf: x.pow(-0.5)
        case .twoToThe: pow(2, x)
        case .halfToThe: pow(0.5, x)
        case .relu: x.relu()
        case .sigmoid: x.sigmoid()
        case .tanh: x.tanh()
        }
    }

    func input(seed: UInt64) -> Tensor {
        switch self {
        case .log, .powOnePointFive, .powMinusHalf:
            randomTensor([3, 5], low: 0.5, high: 2, seed: seed)
        case .relu:  // keep every element 0.1 away from the kink
            randomTensorAwayFromZero([3, 5], minimum: 0.1, maximum: 2, seed: seed)
        case .sigmoid, .tanh:
            randomTensor([3, 5], low: -3, high: 3, seed: seed)
        default:
            randomTensor([3, 5], low: -1.5, high: 1.5, seed: seed)
        }
    }
}

@Test("unary op gradients", arguments: UnaryCase.allCases)
func unaryGradients(op: UnaryCase) {
    expectGradientsMatch([op.input(seed: 5)]) { op($0[0]) }
}

@Test func sumAndMeanGradients() {
    let x = randomTensor([2, 3, 4], seed: 6)
    expectGradientsMatch([x]) { $0[0].sum() }
    expectGradientsMatch([x]) { $0[0].mean() }
}

@Test("sum(axis:keepDim:) and mean(axis:) gradients on a 3-D tensor",
      arguments: [0, 1, -1], [false, true])
func axisReductionGradients(axis: Int, keepDim: Bool) {
    let x = randomTensor([2, 3, 4], seed: 7)
    expectGradientsMatch([x]) { $0[0].sum(axis: axis, keepDim: keepDim) }
    expectGradientsMatch([x]) { $0[0].mean(axis: axis, keepDim: keepDim) }
}

@Test func reshapeAndFlattenGradients() {
    let x = randomTensor([2, 3, 4], seed: 8)
    // Multiply after reshaping so the gradient depends on the element order.
    let w = randomTensor([4, 6], seed: 9)
    expectGradientsMatch([x]) { $0[0].reshaped([4, 6]) * w }
    expectGradientsMatch([x]) { $0[0].reshaped([-1, 6]) * w }
    let v = randomTensor([2, 12], seed: 10)
    expectGradientsMatch([x]) { $0[0].flattened() * v }
}

@Test func matrixTransposeGradient() {
    let matrix = randomTensor([3, 5], seed: 11)
    expectGradientsMatch([matrix]) { $0[0].transposed() }
}

@Test("transpose gradients on two axes of a 3-D tensor", arguments: [[-2, -1], [0, 1], [0, 2], [2, 1]])
func transposeGradients(axes: [Int]) {
    let cube = randomTensor([2, 3, 4], seed: 12)
    expectGradientsMatch([cube]) { $0[0].transposed(axes[0], axes[1]) }
}

@Test func sliceGradients() {
    let x = randomTensor([4, 5, 2], seed: 13)
    expectGradientsMatch([x]) { $0[0].slice(axis: 0, 1..<3) }
    expectGradientsMatch([x]) { $0[0].slice(axis: 1, 2..<5) }
    expectGradientsMatch([x]) { $0[0].slice(axis: -1, 1..<2) }
}

@Test func concatenateGradients() {
    let a = randomTensor([2, 3], seed: 14)
    let b = randomTensor([4, 3], seed: 15)
    expectGradientsMatch([a, b]) { Tensor.concatenate([$0[0], $0[1]], axis: 0) }
    let c = randomTensor([2, 3, 2], seed: 16)
    let d = randomTensor([2, 1, 2], seed: 17)
    expectGradientsMatch([c, d]) { Tensor.concatenate([$0[0], $0[1], $0[0]], axis: 1) }
}

@Test("logSoftmax and softmax gradients", arguments: [-1, 0])
func softmaxGradients(axis: Int) {
    let x = randomTensor([3, 5], low: -2, high: 2, seed: 18)
    expectGradientsMatch([x]) { $0[0].logSoftmax(axis: axis) }
    expectGradientsMatch([x]) { $0[0].softmax(axis: axis) }
    let cube = randomTensor([2, 3, 4], low: -2, high: 2, seed: 19)
    expectGradientsMatch([cube]) { $0[0].logSoftmax(axis: 1) }
}

@Test func gatherGradient() {
    let x = randomTensor([4, 5], seed: 20)
    expectGradientsMatch([x]) { $0[0].gather(columns: [0, 3, 4, 3]) }
}

@Test("matmul gradients", arguments: [false, true], [false, true])
func matmulGradients(transposeA: Bool, transposeB: Bool) {
    let (m, k, n) = (3, 4, 5)
    let a = randomTensor(transposeA ? [k, m] : [m, k], seed: 21)
    let b = randomTensor(transposeB ? [n, k] : [k, n], seed: 22)
    expectGradientsMatch([a, b]) { Tensor.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
}

@Test func linearGradients() {
    let x = randomTensor([4, 3], seed: 23)
    let w = randomTensor([5, 3], seed: 24)
    let b = randomTensor([5], seed: 25)
    expectGradientsMatch([x, w, b]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
    expectGradientsMatch([x, w]) { Tensor.linear($0[0], weight: $0[1], bias: nil) }
}

@Test func crossEntropyGradient() {
    let logits = randomTensor([4, 5], low: -2, high: 2, seed: 26)
    expectGradientsMatch([logits]) { Tensor.crossEntropy(logits: $0[0], labels: [1, 0, 4, 1]) }
}

@Test func binaryCrossEntropyGradients() {
    // Probabilities away from 0 and 1, where log's curvature would swamp the differences.
    let p = randomTensor([3, 4], low: 0.2, high: 0.8, seed: 27)
    let t = randomTensor([3, 4], low: 0, high: 1, seed: 28)
    expectGradientsMatch([p, t], epsilon: 2e-3) { Tensor.binaryCrossEntropy(predicted: $0[0], expected: $0[1]) }
}

@Test func meanSquaredErrorGradients() {
    let p = randomTensor([3, 4], seed: 29)
    let t = randomTensor([3, 4], seed: 30)
    expectGradientsMatch([p, t]) { Tensor.meanSquaredError(predicted: $0[0], expected: $0[1]) }
}

@Test func composedNetworkGradients() {
    // A small MLP end to end: every parameter's gradient through several ops.
    let x = randomTensor([4, 3], seed: 31)
    let w1 = randomTensor([6, 3], seed: 32)
    let b1 = randomTensor([6], seed: 33)
    let w2 = randomTensor([2, 6], seed: 34)
    expectGradientsMatch([x, w1, b1, w2]) { p in
        let h = Tensor.linear(p[0], weight: p[1], bias: p[2]).tanh()
        return Tensor.crossEntropy(logits: Tensor.linear(h, weight: p[3], bias: nil), labels: [0, 1, 1, 0])
    }
}

@Test func gradientCheckCatchesAWrongRule() {
    // The checker itself: a backward rule off by a factor must be reported.
    struct WrongSquare: Function {
        func forward(_ inputs: [Tensor], context: FunctionContext) -> Tensor {
            context.saveForBackward(inputs[0])
            return inputs[0] * inputs[0]
        }
        func backward(_ gradOutput: Tensor, context: FunctionContext) -> [Tensor?] {
            [gradOutput * 2.1 * context.savedTensors[0]]
        }
    }
    let x = randomTensorAwayFromZero([4], minimum: 0.5, maximum: 1, seed: 35)
    let errors = gradientCheck([x]) { WrongSquare()($0[0]) }
    #expect(errors[0].error > 2e-2)
}
