import Testing
import TensorCore

// The seeded xoshiro256** generator: reproducibility, saved state, distributions.

/// Reference xoshiro256** step (Blackman and Vigna), written independently.
private func referenceXoshiro(_ s: inout [UInt64]) -> UInt64 {
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
    let result = rotl(s[1] &* 5, 7) &* 9
    let t = s[1] << 17
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 45)
    return result
}

private func draws(_ generator: inout RandomGenerator, _ n: Int) -> [UInt64] {
    (0..<n).map { _ in generator.next() }
}

@Test func matchesReferenceXoshiro256StarStar() {
    var generator = RandomGenerator(seed: 0)
    generator.state = [1, 2, 3, 4]
    var reference: [UInt64] = [1, 2, 3, 4]
    #expect(generator.next() == 11520)  // rotl(2 * 5, 7) * 9
    _ = referenceXoshiro(&reference)
    for _ in 0..<1000 { #expect(generator.next() == referenceXoshiro(&reference)) }
}

@Test func sameSeedGivesTheSameStream() {
    var a = RandomGenerator(seed: 42)
    var b = RandomGenerator(seed: 42)
    #expect(draws(&a, 1000) == draws(&b, 1000))
    var c = RandomGenerator(seed: 42, stream: 3)
    var d = RandomGenerator(seed: 42, stream: 3)
    #expect(draws(&c, 1000) == draws(&d, 1000))
}

@Test func differentSeedsAndStreamsDiffer() {
    var base = RandomGenerator(seed: 42)
    var otherSeed = RandomGenerator(seed: 43)
    var otherStream = RandomGenerator(seed: 42, stream: 1)
    let x = draws(&base, 100), y = draws(&otherSeed, 100), z = draws(&otherStream, 100)
    #expect(Set(x).isDisjoint(with: y))
    #expect(Set(x).isDisjoint(with: z))
    #expect(Set(y).isDisjoint(with: z))
}

@Test func savedStateContinuesIdentically() {
    var generator = RandomGenerator(seed: 7)
    _ = draws(&generator, 37)
    _ = generator.normal()
    let saved = generator.state
    #expect(saved.count == 4)
    let continued = draws(&generator, 100)

    var restored = RandomGenerator(seed: 999)
    restored.state = saved
    #expect(draws(&restored, 100) == continued)
    #expect(restored == generator)
}

@Test func permutationIsAPermutation() {
    var generator = RandomGenerator(seed: 5)
    for n in [0, 1, 2, 10, 1000] {
        let p = generator.permutation(n)
        #expect(p.sorted() == Array(0..<n))
    }
    // Shuffles, and differently for another stream.
    let p = generator.permutation(1000)
    #expect(p != Array(0..<1000))
    var other = RandomGenerator(seed: 5, stream: 1)
    #expect(other.permutation(1000) != p)
}

@Test func nextIntStaysBelowTheBoundAndCoversIt() {
    var generator = RandomGenerator(seed: 11)
    var counts = [Int](repeating: 0, count: 7)
    for _ in 0..<7000 { counts[generator.nextInt(below: 7)] += 1 }
    #expect(counts.allSatisfy { $0 > 850 && $0 < 1150 })
}

@Test func uniformMeanIsAHalf() {
    var generator = RandomGenerator(seed: 12)
    let n = 100_000
    var sum = 0.0
    var outOfRange = 0
    for _ in 0..<n {
        let u = generator.nextFloat()
        if !(u >= 0 && u < 1) { outOfRange += 1 }
        sum += Double(u)
    }
    #expect(outOfRange == 0)
    #expect(abs(sum / Double(n) - 0.5) < 0.005)
}

@Test func normalHasMeanZeroAndStdOne() {
    var generator = RandomGenerator(seed: 13)
    let n = 100_000
    var sum = 0.0, sumSquares = 0.0
    for _ in 0..<n {
        let z = Double(generator.normal())
        sum += z
        sumSquares += z * z
    }
    let mean = sum / Double(n)
    let std = (sumSquares / Double(n) - mean * mean).squareRoot()
    #expect(sum.isFinite && sumSquares.isFinite)
    #expect(abs(mean) < 0.015)
    #expect(abs(std - 1) < 0.01)
}

@Test func randomTensorsAreReproducibleAndInRange() {
    var a = RandomGenerator(seed: 14)
    var b = RandomGenerator(seed: 14)
    let x = Tensor.uniform([100], low: -0.25, high: 0.5, generator: &a)
    let y = Tensor.uniform([100], low: -0.25, high: 0.5, generator: &b)
    #expect(x.scalars == y.scalars)
    #expect(x.scalars.allSatisfy { $0 >= -0.25 && $0 < 0.5 })
    let z = Tensor.normal([50], mean: 3, std: 0.01, generator: &a, requiresGrad: true)
    #expect(z.requiresGrad)
    #expect(z.scalars.allSatisfy { abs($0 - 3) < 0.1 })
}
