import CKernels

/// Elementwise unary ops: neg, exp, log, pow, relu, sigmoid, tanh.
extension Tensor {
    /// Applies `f` to every element and records `dOut/dx = derivative(x, y)`.
    @inline(__always)
    func unary(_ f: (Float) -> Float, derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
        let out = Tensor.uninitialized(shape)
        let px = data, py = out.data
        for i in 0..<count { py[i] = f(px[i]) }
        let outStorage = out.storage
        return out.recorded([self]) { [self] g in
            let gx = self.gradData(), pg = g.data
            let py = outStorage.base
            for i in 0..<g.count { gx[i] += pg[i] * derivative(px[i], py[i]) }
        }
    }

    public static prefix func - (x: Tensor) -> Tensor {
        x.unary({ -$0 }, derivative: { _, _ in -1 })
    }

    /// e^x.
    public func exp() -> Tensor { unary(fexp, derivative: { _, y in y }) }

    /// Natural logarithm.
    public func log() -> Tensor { unary(flog, derivative: { x, _ in 1 / x }) }

    /// x^exponent.
    public func pow(_ exponent: Float) -> Tensor {
        if exponent == 2 { return unary({ $0 * $0 }, derivative: { x, _ in 2 * x }) }
        return unary({ fpow($0, exponent) }, derivative: { x, _ in exponent * fpow(x, exponent - 1) })
    }

    /// max(x, 0). Written out (not through `unary`) because it is on the hot
    /// path of every model: the forward loop vectorises in Swift; the
    /// backward one does not (Swift cannot rule out aliasing), so it is in C.
    public func relu() -> Tensor {
        let out = Tensor.uninitialized(shape)
        let px = data, py = out.data
        for i in 0..<count { py[i] = max(px[i], 0) }
        return out.recorded([self]) { [self] g in
            ck_relu_backward(self.data, g.data, self.gradData(), g.count)
        }
    }

    /// 1 / (1 + e^-x), computed without overflow for large |x|. Written out
    /// in C (CKernels) so its exp vectorises.
    public func sigmoid() -> Tensor {
        let out = Tensor.uninitialized(shape)
        ck_sigmoid_forward(data, out.data, count)
        let outStorage = out.storage
        return out.recorded([self]) { [self] g in
            let gx = self.gradData(), pg = g.data, py = outStorage.base
            for i in 0..<g.count { gx[i] += pg[i] * py[i] * (1 - py[i]) }
        }
    }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor { unary(ftanh, derivative: { _, y in 1 - y * y }) }
}

/// base^exponent elementwise (for example 2^x), with d/dx = base^x ln(base).
public func pow(_ base: Float, _ exponent: Tensor) -> Tensor {
    let lnBase = flog(base)
    return exponent.unary({ fpow(base, $0) }, derivative: { _, y in y * lnBase })
}

/// x^exponent elementwise.
public func pow(_ x: Tensor, _ exponent: Float) -> Tensor { x.pow(exponent) }
