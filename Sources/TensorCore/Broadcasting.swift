/// NumPy/PyTorch broadcasting: shapes are aligned from the right, and a
/// dimension of 1 (or a missing one) stretches to match the other.
enum Broadcast {
    /// The broadcast shape of `a` and `b`, or a precondition failure naming both.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int] {
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            ensure(da == db || da == 1 || db == 1, "Shapes \(a) and \(b) cannot be broadcast together")
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Element strides of a tensor of `shape` read as `outShape` (0 where it stretches).
    static func strides(of shape: [Int], in outShape: [Int]) -> [Int] {
        let n = outShape.count
        var strides = [Int](repeating: 0, count: n)
        var step = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            let o = i + n - shape.count
            strides[o] = shape[i] == 1 ? 0 : step
            step *= shape[i]
        }
        return strides
    }

    /// Calls `body(outIndex, aIndex, bIndex, length, aStep, bStep)` for each
    /// run of the last dimension of `outShape`, so kernels loop over the
    /// innermost dimension with fixed steps (0 or 1 for contiguous inputs).
    @inline(__always)
    static func forEachRow(_ outShape: [Int], _ aStrides: [Int], _ bStrides: [Int],
                           _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let n = outShape.count
        if n == 0 {
            body(0, 0, 0, 1, 0, 0)
            return
        }
        let inner = outShape[n - 1]
        let rows = outShape.reduce(1, *) / max(inner, 1)
        if inner == 0 { return }
        var index = [Int](repeating: 0, count: n)
        var ai = 0, bi = 0
        for row in 0..<rows {
            body(row * inner, ai, bi, inner, aStrides[n - 1], bStrides[n - 1])
            // Advance the odometer over the outer dimensions.
            var d = n - 2
            while d >= 0 {
                index[d] += 1
                ai += aStrides[d]
                bi += bStrides[d]
                if index[d] < outShape[d] { break }
                ai -= aStrides[d] * outShape[d]
                bi -= bStrides[d] * outShape[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    /// Adds `gradient` (shaped `outShape`) into `target` (shaped `shape`,
    /// broadcast to `outShape`), summing over the stretched dimensions.
    static func accumulate(_ gradient: UnsafePointer<Float>, outShape: [Int],
                           into target: UnsafeMutablePointer<Float>, shape: [Int]) {
        let outCount = outShape.reduce(1, *)
        if shape.reduce(1, *) == outCount {
            for i in 0..<outCount { target[i] += gradient[i] }
            return
        }
        let strides = Broadcast.strides(of: shape, in: outShape)
        forEachRow(outShape, strides, strides) { o, t, _, length, step, _ in
            if step == 0 {
                var s: Float = 0
                for j in 0..<length { s += gradient[o + j] }
                target[t] += s
            } else {
                for j in 0..<length { target[t + j] += gradient[o + j] }
            }
        }
    }
}
