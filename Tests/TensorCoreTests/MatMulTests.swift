import Testing
import TensorCore

// sgemm-backed matmul and linear against a naive triple loop in Double.

/// op(A) op(B) with A stored [M, K] (or [K, M] when transposeA) and B [K, N]
/// (or [N, K] when transposeB): the reference kernel.
func referenceMatmul(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int,
                     transposeA: Bool = false, transposeB: Bool = false) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let aip = transposeA ? a[p * m + i] : a[i * k + p]
                let bpj = transposeB ? b[j * k + p] : b[p * n + j]
                s += Double(aip) * Double(bpj)
            }
            c[i * n + j] = s
        }
    }
    return c
}

struct MatMulSize: Sendable, CustomTestStringConvertible {
    let m: Int, k: Int, n: Int
    var testDescription: String { "\(m)x\(k)x\(n)" }
    static let all = [MatMulSize(m: 1, k: 1, n: 1), MatMulSize(m: 7, k: 13, n: 5),
                      MatMulSize(m: 33, k: 65, n: 17), MatMulSize(m: 64, k: 784, n: 128)]
}

@Test("matmul matches the reference kernel", arguments: MatMulSize.all)
func matmulMatchesReference(size: MatMulSize) {
    let (m, k, n) = (size.m, size.k, size.n)
    for transposeA in [false, true] {
        for transposeB in [false, true] {
            let a = randomTensor(transposeA ? [k, m] : [m, k], seed: 70)
            let b = randomTensor(transposeB ? [n, k] : [k, n], seed: 71)
            let c = Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
            #expect(c.shape == [m, n])
            let expected = referenceMatmul(a.scalars, b.scalars, m: m, k: k, n: n,
                                           transposeA: transposeA, transposeB: transposeB)
            expectClose(c.scalars, expected, absolute: 1e-6 * Double(k), relative: 1e-5,
                        "transposeA \(transposeA), transposeB \(transposeB)")
        }
    }
}

@Test func instanceMatmulIsThePlainProduct() {
    let a = randomTensor([4, 6], seed: 72)
    let b = randomTensor([6, 3], seed: 73)
    #expect(a.matmul(b).scalars == Tensor.matmul(a, b).scalars)
}

@Test("linear matches x W^T + b from the reference kernel", arguments: MatMulSize.all)
func linearMatchesReference(size: MatMulSize) {
    let (batch, inFeatures, outFeatures) = (size.m, size.k, size.n)
    let x = randomTensor([batch, inFeatures], seed: 74)
    let w = randomTensor([outFeatures, inFeatures], seed: 75)
    let b = randomTensor([outFeatures], seed: 76)
    let product = referenceMatmul(x.scalars, w.scalars, m: batch, k: inFeatures, n: outFeatures, transposeB: true)
    let withBias = product.enumerated().map { $0.element + Double(b.scalars[$0.offset % outFeatures]) }
    let tolerance = 1e-6 * Double(inFeatures)
    expectClose(Tensor.linear(x, weight: w, bias: b).scalars, withBias, absolute: tolerance)
    expectClose(Tensor.linear(x, weight: w, bias: nil).scalars, product, absolute: tolerance)
}

@Test func matmulBackwardMatchesTheReferenceFormulas() {
    // dA = dC B^T and dB = A^T dC, from the reference kernel, at a size where BLAS blocks.
    let (m, k, n) = (37, 70, 29)
    let a = randomTensor([m, k], seed: 77)
    let b = randomTensor([k, n], seed: 78)
    a.requiresGrad = true
    b.requiresGrad = true
    let upstream = randomTensor([m, n], seed: 79)
    Tensor.matmul(a, b).backward(gradient: upstream)
    let g = upstream.scalars
    expectClose(a.grad!.scalars, referenceMatmul(g, b.scalars, m: m, k: n, n: k, transposeB: true),
                absolute: 1e-6 * Double(n))
    expectClose(b.grad!.scalars, referenceMatmul(a.scalars, g, m: k, k: m, n: n, transposeA: true),
                absolute: 1e-6 * Double(m))
}
