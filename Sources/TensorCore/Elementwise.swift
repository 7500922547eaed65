/// Elementwise binary ops with broadcasting: `+`, `-`, `*`, `/`, with tensors
/// or Float scalars on either side.
/// The four elementwise operations, with their partial derivatives.
///
/// An enum rather than closures: the backward loops switch once, outside
/// the loop, where a closure per element (the rule captured by the recorded
/// backward, which the compiler cannot specialise) measured a sixth of an
/// Elman RNN's training time.
enum Arithmetic {
    case add, subtract, multiply, divide

    @inline(__always)
    func callAsFunction(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .add: x + y
        case .subtract: x - y
        case .multiply: x * y
        case .divide: x / y
        }
    }

    /// d(x op y)/dx at (x, y).
    @inline(__always)
    func dx(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .add, .subtract: 1
        case .multiply: y
        case .divide: 1 / y
        }
    }

    /// d(x op y)/dy at (x, y).
    @inline(__always)
    func dy(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .add: 1
        case .subtract: -1
        case .multiply: x
        case .divide: -x / (y * y)
        }
    }
}

extension Tensor {
    /// Applies `op` elementwise over the broadcast of `a` and `b`, and
    /// records its partial derivatives as the backward rule.
    static func binary(_ a: Tensor, _ b: Tensor, _ op: Arithmetic) -> Tensor {
        let outShape = a.shape == b.shape ? a.shape : Broadcast.shape(a.shape, b.shape)
        let out = Tensor.uninitialized(outShape)
        let (pa, pb, po) = (a.data, b.data, out.data)
        if a.shape == b.shape {
            switch op {
            case .add: for i in 0..<out.count { po[i] = pa[i] + pb[i] }
            case .subtract: for i in 0..<out.count { po[i] = pa[i] - pb[i] }
            case .multiply: for i in 0..<out.count { po[i] = pa[i] * pb[i] }
            case .divide: for i in 0..<out.count { po[i] = pa[i] / pb[i] }
            }
        } else {
            let sa = Broadcast.strides(of: a.shape, in: outShape)
            let sb = Broadcast.strides(of: b.shape, in: outShape)
            Broadcast.forEachRow(outShape, sa, sb) { o, ai, bi, n, da, db in
                for j in 0..<n { po[o + j] = op(pa[ai + j * da], pb[bi + j * db]) }
            }
        }
        return out.recorded([a, b]) { g in
            if a.shape == b.shape {
                sameShapeBackward(op, g.data, a, b)
                return
            }
            // Local gradient of each output element times g, summed back to each input's shape.
            let sa = Broadcast.strides(of: a.shape, in: outShape)
            let sb = Broadcast.strides(of: b.shape, in: outShape)
            for (input, isA) in [(a, true), (b, false)] where input.requiresGrad {
                let local = Tensor.uninitialized(outShape)
                let pl = local.data, pg = g.data
                Broadcast.forEachRow(outShape, sa, sb) { o, ai, bi, n, da, db in
                    for j in 0..<n {
                        let (x, y) = (pa[ai + j * da], pb[bi + j * db])
                        pl[o + j] = pg[o + j] * (isA ? op.dx(x, y) : op.dy(x, y))
                    }
                }
                Broadcast.accumulate(pl, outShape: outShape, into: input.gradData(), shape: input.shape)
            }
        }
    }

    /// The backward of `a op b` for equal shapes: one loop per operation and
    /// side, each a plain multiply-add over the three buffers.
    private static func sameShapeBackward(_ op: Arithmetic, _ pg: UnsafeMutablePointer<Float>, _ a: Tensor, _ b: Tensor) {
        let (pa, pb, n) = (a.data, b.data, a.count)
        if a.requiresGrad {
            let ga = a.gradData()
            switch op {
            case .add, .subtract: for i in 0..<n { ga[i] += pg[i] }
            case .multiply: for i in 0..<n { ga[i] += pg[i] * pb[i] }
            case .divide: for i in 0..<n { ga[i] += pg[i] * (1 / pb[i]) }
            }
        }
        if b.requiresGrad {
            let gb = b.gradData()
            switch op {
            case .add: for i in 0..<n { gb[i] += pg[i] }
            case .subtract: for i in 0..<n { gb[i] += pg[i] * -1 }
            case .multiply: for i in 0..<n { gb[i] += pg[i] * pa[i] }
            case .divide: for i in 0..<n { gb[i] += pg[i] * (-pa[i] / (pb[i] * pb[i])) }
            }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, .add)
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, .subtract)
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, .multiply)
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, .divide)
    }

    public static func + (a: Tensor, s: Float) -> Tensor { a + Tensor(scalar: s) }
    public static func + (s: Float, a: Tensor) -> Tensor { Tensor(scalar: s) + a }
    public static func - (a: Tensor, s: Float) -> Tensor { a - Tensor(scalar: s) }
    public static func - (s: Float, a: Tensor) -> Tensor { Tensor(scalar: s) - a }
    public static func * (a: Tensor, s: Float) -> Tensor { a * Tensor(scalar: s) }
    public static func * (s: Float, a: Tensor) -> Tensor { Tensor(scalar: s) * a }
    public static func / (a: Tensor, s: Float) -> Tensor { a / Tensor(scalar: s) }
    public static func / (s: Float, a: Tensor) -> Tensor { Tensor(scalar: s) / a }
}
