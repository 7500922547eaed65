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

/// Three samples of two features, labelled, as a user writes one.
struct Pairs: SimpleDataset {
    var count: Int { 3 }
    var sampleShape: [Int] { [2] }
    func sample(at index: Int) -> Sample { Sample(features: [Float(index), Float(index) + 0.5], label: index % 2) }
}

/// A data set whose samples are one value short of its shape.
struct ShortPairs: SimpleDataset {
    var count: Int { 3 }
    var sampleShape: [Int] { [2] }
    func sample(at index: Int) -> Sample { Sample(features: [1]) }
}

@Test("A SimpleDataset's samples reach the batch as the arrays it returns, labels included")
func simpleDatasetBatches() throws {
    let loader = DataLoader(dataset: Pairs(), sampler: try DistributedBatchSampler(count: 3, globalBatchSize: 3, shuffle: false),
                            prefetch: 0)
    let batch = loader.batch(epoch: 0, step: 0)
    #expect(batch.inputs == [0, 0.5, 1, 1.5, 2, 2.5] && batch.labels == [0, 1, 0])
}

@Test("A SimpleDataset sample of the wrong size stops the program naming the type, the index and the sizes, in every build")
func simpleDatasetWrongSize() async throws {
    let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var buffer = [Float](repeating: 0, count: 2)
        _ = buffer.withUnsafeMutableBufferPointer { ShortPairs().copySample(at: 1, into: $0.baseAddress!) }
    }
    let message = String(decoding: result.standardErrorContent, as: UTF8.self)
    #expect(message.contains("ShortPairs.sample(at: 1) has 1 features; sampleShape [2] holds 2"), "\(message)")
}
