/// Inverted dropout with a counter-based mask (PyTorch's F.dropout in
/// training mode: zero with probability p, scale survivors by 1 / (1 - p)).
///
/// Each row of the batch draws its mask from its own `CounterRandom` stream,
/// element j of the row from counter j, so a sample's mask depends on its
/// stream alone, not on its position in the batch. Forward keeps the mask;
/// backward multiplies by the same mask.
extension Tensor {
    /// `x` [rows, ...] with element j of row r set to 0 when
    /// `rowStreams[r].uniform(j) < p`, and otherwise multiplied by 1 / (1 - p).
    public static func dropout(_ x: Tensor, probability p: Float, rowStreams: [CounterRandom]) -> Tensor {
        ensure(p >= 0 && p < 1, "dropout probability must be in [0, 1), got \(p)")
        ensure(x.rank >= 1, "dropout needs a batch dimension, got shape \(x.shape)")
        ensure(rowStreams.count == x.shape[0],
                     "dropout: \(rowStreams.count) row streams for a batch of \(x.shape[0])")
        let rowLength = x.shape[0] == 0 ? 0 : x.count / x.shape[0]
        let scale = 1 / (1 - p)
        // mask [rows, rowLength]: 0 or 1 / (1 - p)
        let mask = [Float](unsafeUninitializedCapacity: x.count) { m, initialized in
            for (r, stream) in rowStreams.enumerated() {
                let row = m.baseAddress! + r * rowLength
                for j in 0..<rowLength { row[j] = stream.uniform(UInt64(j)) < p ? 0 : scale }
            }
            initialized = x.count
        }
        let out = Tensor.uninitialized(x.shape)
        let px = x.data, py = out.data
        for i in 0..<x.count { py[i] = px[i] * mask[i] }
        return out.recorded([x]) { g in
            let gx = x.gradData(), pg = g.data
            for i in 0..<g.count { gx[i] += pg[i] * mask[i] }
        }
    }
}
