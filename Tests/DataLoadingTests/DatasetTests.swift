import DataLoading
import Testing

/// A data set without labels, to check the protocol's defaults work for
/// anything, not only images.
private struct UnlabelledDataset: Dataset {
    var count: Int { 4 }
    var sampleShape: [Int] { [3, 1] }
    var classNames: [String] { [] }

    func copySample(at index: Int, into destination: UnsafeMutablePointer<Float>) -> Int32 {
        for k in 0..<3 {
            destination[k] = Float(index * 10 + k)
        }
        return -1
    }
}

@Suite struct DatasetTests {
    @Test func subscriptReturnsFeaturesAndLabel() {
        let dataset = UnlabelledDataset()
        #expect(dataset.sampleSize == 3)
        let (input, label) = dataset[2]
        #expect(input == [20, 21, 22])
        #expect(label == -1)
    }

    @Test func worksThroughAnExistential() {
        let datasets: [any Dataset] = [UnlabelledDataset(), CountingDataset(count: 5)]
        #expect(datasets.map(\.sampleSize) == [3, 2])
        #expect(datasets[1][4].input == [4, -4])
        #expect(datasets[1][4].label == 4)
    }
}
