import CBLAS

/// Matrix products through `cblas_sgemm`. Transposed operands are passed to
/// BLAS as flags, never copied.
extension Tensor {
    /// `C = op(A) op(B) + beta C` on row-major matrices, where `op` transposes when asked.
    /// A is stored with `lda` columns, B with `ldb`, C with `ldc`.
    @inline(__always)
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                     _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The matrix product `op(a) op(b)` of two 2-D tensors.
    ///
    /// `a` is [M, K] ([K, M] when `transposeA`), `b` is [K, N] ([N, K] when
    /// `transposeB`); the result is [M, N]. Backward: dA = dC op(B)^T and
    /// dB = op(A)^T dC, each written as one sgemm that accumulates (beta 1),
    /// or writes a gradient's first part (beta 0).
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        ensure(a.rank == 2 && b.rank == 2, "matmul needs 2-D tensors, got \(a.shape) and \(b.shape)")
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        ensure(k == kb, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") x \(b.shape)\(transposeB ? "ᵀ" : "")")
        let out = Tensor.uninitialized([m, n])
        gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
             a.data, lda: a.shape[1], b.data, ldb: b.shape[1], beta: 0, out.data, ldc: n)
        return out.recorded([a, b]) { g in
            if a.requiresGrad {
                let (ga, accumulate) = a.gradientForWriting()
                if transposeA {  // dA [K, M] = op(B) dC^T
                    gemm(transposeA: transposeB, transposeB: true, m: k, n: m, k: n,
                         b.data, lda: b.shape[1], g.data, ldb: n, beta: accumulate ? 1 : 0, ga, ldc: m)
                } else {         // dA [M, K] = dC op(B)^T
                    gemm(transposeA: false, transposeB: !transposeB, m: m, n: k, k: n,
                         g.data, lda: n, b.data, ldb: b.shape[1], beta: accumulate ? 1 : 0, ga, ldc: k)
                }
            }
            if b.requiresGrad {
                let (gb, accumulate) = b.gradientForWriting()
                if transposeB {  // dB [N, K] = dC^T op(A)
                    gemm(transposeA: true, transposeB: transposeA, m: n, n: k, k: m,
                         g.data, lda: n, a.data, ldb: a.shape[1], beta: accumulate ? 1 : 0, gb, ldc: k)
                } else {         // dB [K, N] = op(A)^T dC
                    gemm(transposeA: !transposeA, transposeB: false, m: k, n: n, k: m,
                         a.data, lda: a.shape[1], g.data, ldb: n, beta: accumulate ? 1 : 0, gb, ldc: n)
                }
            }
        }
    }

    /// `self` times `other` (both 2-D).
    public func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }

    /// `x W^T + b` for x [B, in], W [out, in], b [out] (PyTorch's F.linear),
    /// fused: the bias is copied into the output rows and sgemm adds x W^T.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        ensure(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1],
                     "linear: input \(x.shape) does not match weight \(weight.shape) (expected [batch, \(weight.shape.count == 2 ? weight.shape[1] : 0)])")
        let (batch, inFeatures, outFeatures) = (x.shape[0], x.shape[1], weight.shape[0])
        let out = Tensor.uninitialized([batch, outFeatures])
        if let bias {
            ensure(bias.shape == [outFeatures], "linear: bias \(bias.shape) does not match \(outFeatures) outputs")
            for r in 0..<batch { (out.data + r * outFeatures).update(from: bias.data, count: outFeatures) }
        }
        gemm(transposeA: false, transposeB: true, m: batch, n: outFeatures, k: inFeatures,
             x.data, lda: inFeatures, weight.data, ldb: inFeatures, beta: bias == nil ? 0 : 1, out.data, ldc: outFeatures)
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return out.recorded(inputs) { g in
            if x.requiresGrad {      // dx [B, in] = g W
                let (gx, accumulate) = x.gradientForWriting()
                gemm(transposeA: false, transposeB: false, m: batch, n: inFeatures, k: outFeatures,
                     g.data, lda: outFeatures, weight.data, ldb: inFeatures, beta: accumulate ? 1 : 0, gx,
                     ldc: inFeatures)
            }
            if weight.requiresGrad { // dW [out, in] = g^T x
                gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: batch,
                     g.data, lda: outFeatures, x.data, ldb: inFeatures, beta: 1, weight.gradData(), ldc: inFeatures)
            }
            if let bias, bias.requiresGrad { // db = column sums of g
                let gb = bias.gradData(), pg = g.data
                for r in 0..<batch {
                    let row = pg + r * outFeatures
                    for j in 0..<outFeatures { gb[j] += row[j] }
                }
            }
        }
    }
}
