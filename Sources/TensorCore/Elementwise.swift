/// Elementwise binary ops with broadcasting: `+`, `-`, `*`, `/`, with tensors
/// or Float scalars on either side.
extension Tensor {
    /// Applies `op` elementwise over the broadcast of `a` and `b`, and
    /// records the rule `dOut/da = dA(a, b)`, `dOut/db = dB(a, b)`.
    @inline(__always)
    static func binary(_ a: Tensor, _ b: Tensor,
                       _ op: (Float, Float) -> Float,
                       dA: @escaping (Float, Float) -> Float,
                       dB: @escaping (Float, Float) -> Float) -> Tensor {
        let outShape = a.shape == b.shape ? a.shape : Broadcast.shape(a.shape, b.shape)
        let out = Tensor.uninitialized(outShape)
        let (pa, pb, po) = (a.data, b.data, out.data)
        if a.shape == b.shape {
            for i in 0..<out.count { po[i] = op(pa[i], pb[i]) }
        } else {
            let sa = Broadcast.strides(of: a.shape, in: outShape)
            let sb = Broadcast.strides(of: b.shape, in: outShape)
            Broadcast.forEachRow(outShape, sa, sb) { o, ai, bi, n, da, db in
                for j in 0..<n { po[o + j] = op(pa[ai + j * da], pb[bi + j * db]) }
            }
        }
        return out.recorded([a, b]) { g in
            // Local gradient of each output element times g, summed back to each input's shape.
            for (input, rule) in [(a, dA), (b, dB)] where input.requiresGrad {
                if a.shape == b.shape {
                    let gi = input.gradData()
                    let pg = g.data
                    for i in 0..<g.count { gi[i] += pg[i] * rule(pa[i], pb[i]) }
                } else {
                    let local = Tensor.uninitialized(outShape)
                    let pl = local.data, pg = g.data
                    let sa = Broadcast.strides(of: a.shape, in: outShape)
                    let sb = Broadcast.strides(of: b.shape, in: outShape)
                    Broadcast.forEachRow(outShape, sa, sb) { o, ai, bi, n, da, db in
                        for j in 0..<n { pl[o + j] = pg[o + j] * rule(pa[ai + j * da], pb[bi + j * db]) }
                    }
                    Broadcast.accumulate(pl, outShape: outShape, into: input.gradData(), shape: input.shape)
                }
            }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, { $0 + $1 }, dA: { _, _ in 1 }, dB: { _, _ in 1 })
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, { $0 - $1 }, dA: { _, _ in 1 }, dB: { _, _ in -1 })
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, { $0 * $1 }, dA: { _, y in y }, dB: { x, _ in x })
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, { $0 / $1 }, dA: { _, y in 1 / y }, dB: { x, y in -x / (y * y) })
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
