import Testing
import TensorCore

// The counter-based generator: a pure function of (key words, counter), uniform.

@Test func counterRandomIsAPureFunctionOfKeyAndCounter() {
    let a = CounterRandom(7, 2, 12_345, 1)
    let b = CounterRandom(words: [7, 2, 12_345, 1])
    #expect(a == b)
    #expect((0..<1000).map { a.bits($0) } == (0..<1000).map { b.bits($0) })
    // Drawing in another order, or skipping counters, changes nothing.
    #expect(a.uniform(999) == (0..<1000).reversed().map { b.uniform($0) }.first)
}

@Test func counterRandomKeysAreSensitiveToEveryWordAndItsPosition() {
    let base = CounterRandom(7, 2, 12_345, 1)
    let others = [CounterRandom(8, 2, 12_345, 1), CounterRandom(7, 3, 12_345, 1), CounterRandom(7, 2, 12_346, 1),
                  CounterRandom(7, 2, 12_345, 2), CounterRandom(2, 7, 12_345, 1), CounterRandom(7, 2, 12_345),
                  CounterRandom(7, 2, 12_345, 1, 0)]
    for other in others {
        #expect(other.key != base.key)
        // About half of the bits differ between the two streams.
        let differing = (0..<256).reduce(0) { $0 + (base.bits(UInt64($1)) ^ other.bits(UInt64($1))).nonzeroBitCount }
        #expect(abs(Double(differing) / (256 * 64) - 0.5) < 0.02)
    }
}

@Test func counterRandomUniformsHaveTheRightMeanAndBucketCounts() {
    // Streams as dropout uses them: many short rows (one key per sample).
    let buckets = 64
    var counts = [Int](repeating: 0, count: buckets)
    var sum: Double = 0
    var n = 0
    for sample in 0..<2000 {
        let stream = CounterRandom(0, 0, UInt64(sample), 0)
        for j in 0..<100 {
            let u = stream.uniform(UInt64(j))
            #expect(u >= 0 && u < 1)
            sum += Double(u)
            counts[Int(u * Float(buckets))] += 1
            n += 1
        }
    }
    // Mean of n uniforms: standard deviation sqrt(1/12n) ~ 0.00065; allow 5 of them.
    #expect(abs(sum / Double(n) - 0.5) < 0.0033)
    // Chi-square with 63 degrees of freedom: the 99.9% point is about 103.4.
    let expected = Double(n) / Double(buckets)
    let chiSquare = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
    #expect(chiSquare < 103.4, "chi-square \(chiSquare)")
}

@Test func neighbouringSamplesAreUncorrelated() {
    // Pearson correlation of element j of sample s and of sample s + 1.
    var (sx, sy, sxx, syy, sxy) = (0.0, 0.0, 0.0, 0.0, 0.0)
    let n = 20_000.0
    for k in 0..<20_000 {
        let s = UInt64(k / 100), j = UInt64(k % 100)
        let x = Double(CounterRandom(1, 0, s, 0).uniform(j))
        let y = Double(CounterRandom(1, 0, s + 1, 0).uniform(j))
        (sx, sy, sxx, syy, sxy) = (sx + x, sy + y, sxx + x * x, syy + y * y, sxy + x * y)
    }
    let cov = sxy / n - sx / n * sy / n
    let r = cov / ((sxx / n - sx * sx / n / n) * (syy / n - sy * sy / n / n)).squareRoot()
    #expect(abs(r) < 0.03, "correlation \(r)")  // 1 / sqrt(n) ~ 0.007
}
