import DataLoading
import Testing

@Suite struct ImageDatasetTests {
    /// Three 2-channel 2x2 images; image i's bytes are 8i..<8i+8 times 10.
    let small = ImageDataset(pixels: (0..<24).map { UInt8($0 * 10) }, labels: [4, 5, 6],
                             channels: 2, height: 2, width: 2, classNames: ["a", "b"])

    @Test func scalesBytesToUnitRange() {
        #expect(small.count == 3)
        #expect(small.sampleShape == [2, 2, 2])
        #expect(small.sampleSize == 8)
        let (input, label) = small[1]
        #expect(label == 5)
        #expect(input == (8..<16).map { Float($0 * 10) / 255 })
        #expect(small.pixels(at: 1) == (8..<16).map { UInt8($0 * 10) })
        #expect(small.labels == [4, 5, 6])
        #expect(small.label(at: 2) == 6)
    }

    @Test func normalisesPerChannel() {
        let normalized = small.normalized(mean: [0.5, 0.25], std: [0.5, 2])
        #expect(normalized.mean == [0.5, 0.25])
        #expect(normalized.std == [0.5, 2])
        let (input, label) = normalized[2]
        #expect(label == 6)
        for i in 0..<8 {
            let x = Float((16 + i) * 10) / 255
            let expected = i < 4 ? (x - 0.5) / 0.5 : (x - 0.25) / 2
            #expect(abs(input[i] - expected) < 1e-6)
        }
        // Normalising again replaces, not compounds, the earlier normalisation.
        #expect(normalized.normalized(mean: [0, 0], std: [1, 1])[2].input == small[2].input)
    }

    @Test func subsetIndexesRelativeToItself() {
        let tail = small.subset(1..<3)
        #expect(tail.count == 2)
        #expect(tail.labels == [5, 6])
        #expect(tail[0].input == small[1].input)
        #expect(tail[1].label == 6)
        #expect(tail.classNames == ["a", "b"])
        let last = tail.subset(1..<2)
        #expect(last.count == 1)
        #expect(last[0].input == small[2].input)
        #expect(small.subset(3..<3).count == 0)
        // Subsets keep the normalisation of the set they came from.
        let normalized = small.normalized(mean: [0.5, 0.5], std: [0.5, 0.5])
        #expect(normalized.subset(2..<3)[0].input == normalized[2].input)
    }

    @Test func copiesIntoACallersBuffer() {
        var buffer = [Float](repeating: .nan, count: 10)
        let label = buffer.withUnsafeMutableBufferPointer { small.copySample(at: 0, into: $0.baseAddress! + 1) }
        #expect(label == 4)
        #expect(buffer[0].isNaN && buffer[9].isNaN)
        #expect(Array(buffer[1..<9]) == small[0].input)
    }

    @Test func realFashionMNISTPixelsAreInRange() {
        let train = fashionMNIST.train
        #expect(train.count == 60_000)
        #expect(train.sampleShape == [1, 28, 28])
        #expect(train.label(at: 0) == 9)
        #expect(train.classNames[9] == "Ankle boot")
        var low: UInt8 = 255
        var high: UInt8 = 0
        for i in stride(from: 0, to: train.count, by: 97) {
            let pixels = train.pixels(at: i)
            low = min(low, pixels.min()!)
            high = max(high, pixels.max()!)
            let input = train[i].input
            #expect(input.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(input == pixels.map { Float($0) / 255 })
        }
        #expect(low == 0)
        #expect(high == 255)
    }
}
