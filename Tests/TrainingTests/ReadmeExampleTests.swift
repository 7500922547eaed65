import Foundation
import NN
import Optim
import TensorCore
import Testing

@Suite("README example")
struct ReadmeExampleTests {
    /// The README's example, verbatim between the markers (checked below).
    func readmeExample() -> Float {
        // README example begins
        var generator = RandomGenerator(seed: 0)
        let model = Sequential(
            Linear(2, 16, generator: &generator), Tanh(),
            Linear(16, 1, generator: &generator), Sigmoid())
        let optimizer = Adam(ParameterSet(model), learningRate: 0.05)

        // XOR: four points, two classes.
        let x = Tensor(shape: [4, 2], values: [0, 0, 0, 1, 1, 0, 1, 1])
        let y = Tensor(shape: [4, 1], values: [0, 1, 1, 0])
        var loss = binaryCrossEntropy(predicted: model(x), expected: y)
        for _ in 0..<300 {
            optimizer.zeroGrad()
            loss = binaryCrossEntropy(predicted: model(x), expected: y)
            loss.backward()
            optimizer.step()
        }
        print("loss", loss.item(), "predictions", model(x).scalars)
        // README example ends
        return loss.item()
    }

    @Test("The example trains XOR")
    func exampleTrains() {
        #expect(readmeExample() < 0.05)
    }

    @Test("The README shows exactly this example")
    func readmeMatches() throws {
        func between(_ text: String, _ begin: String, _ end: String) -> String? {
            guard let a = text.range(of: begin), let b = text.range(of: end, range: a.upperBound..<text.endIndex) else { return nil }
            return String(text[a.upperBound..<b.lowerBound])
        }
        func normalised(_ s: String) -> [String] {
            s.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let readme = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let code = try #require(between(source, "// README example begins", "// README example ends"))
        let shown = try #require(between(readme, "<!-- example begins -->", "<!-- example ends -->"))
        let shownCode = normalised(shown).filter { !$0.hasPrefix("```") && !$0.hasPrefix("import ") }
        #expect(shownCode == normalised(code))
    }
}
