/// Looking up rows of a table by index (PyTorch's F.embedding): the forward
/// copies row `indices[i]` of `weight` to output row i; backward adds output
/// row i's gradient into that row of weight's gradient (a scatter-add, so an
/// index that appears twice gets both contributions). The indices get no
/// gradient.
extension Tensor {
    /// The rows of `weight` [numEmbeddings, embeddingDim] picked by `indices`
    /// (any shape, integral values in 0..<numEmbeddings, held as Floats like
    /// every tensor here): [*indices.shape, embeddingDim].
    public static func embedding(_ indices: Tensor, weight: Tensor) -> Tensor {
        ensure(weight.rank == 2, "embedding needs weight [numEmbeddings, embeddingDim], got \(weight.shape)")
        let (rows, dim) = (weight.shape[0], weight.shape[1])
        let picked = (0..<indices.count).map { i -> Int in
            let v = indices.data[i]
            ensure(v.rounded() == v && v >= 0 && v < Float(rows),
                         "embedding: index \(v) at flat position \(i) of indices \(indices.shape) is not an integer in 0..<\(rows) (weight \(weight.shape))")
            return Int(v)
        }
        // out is (indices.count, dim).
        let out = Tensor.uninitialized(indices.shape + [dim])
        let pw = weight.data, po = out.data
        for (i, row) in picked.enumerated() {
            (po + i * dim).update(from: pw + row * dim, count: dim)
        }
        return out.recorded([weight]) { g in
            let gw = weight.gradData(), pg = g.data
            for (i, row) in picked.enumerated() {
                let src = pg + i * dim, dst = gw + row * dim
                for j in 0..<dim { dst[j] += src[j] }
            }
        }
    }
}
