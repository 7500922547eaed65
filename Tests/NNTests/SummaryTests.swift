import NN
import Testing
import TensorCore

// summary(inputShape:), torchinfo-style.

@Test func mnistMLPSummary() {
    var generator = RandomGenerator(seed: 40)
    let model = Sequential(Flatten(), Linear(784, 128, generator: &generator), ReLU(),
                           Linear(128, 10, generator: &generator))
    let text = model.summary(inputShape: [1, 1, 28, 28])
    let lines = text.split(separator: "\n").map(String.init)

    // One row per layer, in call order, each with its output shape and parameter count.
    let expectedRows: [(layer: String, shape: String, params: String)] = [
        ("Flatten", "[1, 784]", "--"),
        ("Linear (784 -> 128)", "[1, 128]", "100,480"),
        ("ReLU", "[1, 128]", "--"),
        ("Linear (128 -> 10)", "[1, 10]", "1,290"),
    ]
    var searchFrom = 0
    for row in expectedRows {
        let index = lines[searchFrom...].firstIndex { line in
            line.drop { $0 == " " }.hasPrefix(row.layer) && line.contains(row.shape) && line.hasSuffix(row.params)
        }
        #expect(index != nil, "no row for \(row.layer) with \(row.shape) and \(row.params) in\n\(text)")
        if let index { searchFrom = index + 1 }
    }
    #expect(lines.contains("Total params: 101,770"))
    #expect(model.parameterCount == 101_770)
}

@Test func summaryRecordsNothingForAutograd() {
    var generator = RandomGenerator(seed: 41)
    let layer = Linear(2, 2, generator: &generator)
    _ = layer.summary(inputShape: [1, 2])
    #expect(layer.weight.grad == nil)
    #expect(layer(Tensor.zeros([1, 2])).requiresGrad)  // ordinary calls still record
}
