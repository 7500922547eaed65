import CKernels

/// Elementwise unary ops: neg, exp, log, pow, abs, clamp, relu, leakyReLU,
/// gelu, sigmoid, tanh.
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

    /// |x|. The gradient is sign(x), and 0 at x = 0 as in PyTorch.
    public func abs() -> Tensor {
        unary({ Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) })
    }

    /// x limited to [min, max] (PyTorch's `clamp`; either bound may be
    /// omitted, not both). The gradient passes where min <= x <= max, the
    /// bounds included, and is 0 outside, as in PyTorch. With min > max every
    /// element becomes max and no gradient passes (PyTorch again). NaN stays NaN.
    public func clamp(min: Float? = nil, max: Float? = nil) -> Tensor {
        ensure(min != nil || max != nil, "clamp on shape \(shape) needs min, max or both; got neither")
        let low = min ?? -.infinity, high = max ?? .infinity
        return unary({ x in x.isNaN ? x : Swift.min(Swift.max(x, low), high) },
                     derivative: { x, _ in x >= low && x <= high ? 1 : 0 })
    }

    /// max(x, 0). Written out (not through `unary`) because it is on the hot
    /// path of every model: the forward loop vectorises in Swift; the
    /// backward one does not (Swift cannot rule out aliasing), so it is in C.
    public func relu() -> Tensor {
        let out = Tensor.uninitialized(shape)
        let px = data, py = out.data
        for i in 0..<count { py[i] = max(px[i], 0) }
        return out.recorded([self]) { [self] g in
            let (gx, accumulate) = self.gradientForWriting()
            ck_relu_backward(self.data, g.data, gx, g.count, accumulate ? 1 : 0)
        }
    }

    /// x for x > 0, negativeSlope * x otherwise (PyTorch's F.leaky_relu,
    /// default slope 0.01). The gradient at 0 is negativeSlope, as in PyTorch.
    public func leakyReLU(negativeSlope: Float = 0.01) -> Tensor {
        unary({ $0 > 0 ? $0 : negativeSlope * $0 }, derivative: { x, _ in x > 0 ? 1 : negativeSlope })
    }

    /// x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, PyTorch's exact F.gelu
    /// (approximate='none'). The tanh approximation is not offered: it differs
    /// by up to about 5e-4 and PyTorch's default is this form. The gradient is
    /// Phi(x) + x phi(x), with phi the standard normal density.
    public func gelu() -> Tensor {
        let invSqrt2: Float = 0.70710678118654752
        let invSqrt2Pi: Float = 0.39894228040143268
        return unary({ x in 0.5 * x * (1 + ferf(x * invSqrt2)) },
                     derivative: { x, _ in 0.5 * (1 + ferf(x * invSqrt2)) + x * invSqrt2Pi * fexp(-0.5 * x * x) })
    }

    /// 1 / (1 + e^-x), computed without overflow for large |x|. Written out
    /// in C (CKernels) so its exp vectorises.
    public func sigmoid() -> Tensor {
        let out = Tensor.uninitialized(shape)
        ck_sigmoid_forward(data, out.data, count)
        let outStorage = out.storage
        return out.recorded([self]) { [self] g in
            ck_sigmoid_backward(outStorage.base, g.data, self.gradData(), g.count)
        }
    }

    /// Hyperbolic tangent, in C (CKernels) like `sigmoid`: recurrent cells
    /// call it every step, and libm's tanhf does not vectorise.
    public func tanh() -> Tensor {
        let out = Tensor.uninitialized(shape)
        ck_tanh_forward(data, out.data, count)
        let outStorage = out.storage
        return out.recorded([self]) { [self] g in
            ck_tanh_backward(outStorage.base, g.data, self.gradData(), g.count)
        }
    }
}

/// base^exponent elementwise (for example 2^x), with d/dx = base^x ln(base).
public func pow(_ base: Float, _ exponent: Tensor) -> Tensor {
    let lnBase = flog(base)
    return exponent.unary({ fpow(base, $0) }, derivative: { _, y in y * lnBase })
}

/// x^exponent elementwise.
public func pow(_ x: Tensor, _ exponent: Float) -> Tensor { x.pow(exponent) }
