import DataLoading
import Foundation
import NN
import Testing
import TensorCore
import Training

/// A model trained without an `identity:` is named after its type and
/// described by its modules' types, so two programs sharing the default
/// directory do not resume each other's runs.
@Suite("Model identity")
struct ModelIdentityTests {
    static func model(_ activation: any Module) -> Sequential {
        var generator = RandomGenerator(seed: 0)
        return Sequential([Linear(4, 8, generator: &generator), activation, Linear(8, 2, generator: &generator)])
    }

    @Test("The default identity is the type's name and every module's type by path")
    func derived() throws {
        let identity = ModelIdentity(of: Self.model(ReLU()))
        #expect(identity.name == "sequential")
        #expect(identity.configJSON == #"{"modules":{"0":"Linear","1":"ReLU","2":"Linear"}}"#)
        #expect(ModelIdentity(of: Self.model(Tanh())) != identity)
    }

    @Test("A model that differs only in a module without parameters does not resume the other's checkpoint: refused, naming the module")
    func anotherModelIsRefused() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let features = (0..<64 * 4).map { Float($0 % 7) / 7 }
        let data = TensorDataset(features: .floats(features), sampleShape: [4], labels: (0..<64).map { Int32($0 % 2) })
        var options = TrainingOptions()
        options.batchSize = 16
        options.checkpointDirectory = directory.appendingPathComponent("runs").path
        func trainer(_ activation: any Module) throws -> Trainer {
            try Trainer(model: Self.model(activation), train: data, evaluation: data, loss: .crossEntropy, options: options,
                        world: .alone, showProgress: false)
        }
        #expect(try trainer(ReLU()).fit() == .trained(steps: 4))
        let error = try #require(throws: TrainingError.self) { try trainer(Tanh()).fit() }
        #expect("\(error)".contains(#"model_config.modules.1: the checkpoint has "ReLU", this run has "Tanh""#), "\(error)")
        guard case .nothingToDo = try trainer(ReLU()).fit() else {  // the same model still resumes its finished run
            Issue.record("the same model did not find its finished run")
            return
        }
    }
}
