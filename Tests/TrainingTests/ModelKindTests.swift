import Foundation
import ModelZoo
import NN
import TensorCore
import Testing
import Training

@Suite("ModelKind: the zoo's table")
struct ModelKindTests {
    static let specs = [
        ModelSpec(name: "softmax"), ModelSpec(name: "mlp", hidden: 37), ModelSpec(name: "cnn"),
        ModelSpec(name: "cnn", inputShape: [3, 32, 32]), ModelSpec(name: "lenet", inputShape: [3, 32, 32]),
        ModelSpec(name: "autoencoder", latent: 20), ModelSpec(name: "tied-autoencoder", latent: 20),
        ModelSpec(name: "deep-autoencoder", layers: [50, 20, 5]), ModelSpec(name: "highway", hidden: 16, depth: 3),
        ModelSpec(name: "highway", hidden: 16, latent: 4, depth: 2, task: .reconstruct),
        ModelSpec(name: "mlp", inputShape: [3], classes: 2, task: .regress),
        ModelSpec(name: "mlp", hidden: 37, dropout: 0.3), ModelSpec(name: "cnn-bn"),
        ModelSpec(name: "cnn-bn", inputShape: [3, 32, 32], classes: 5),
    ]

    @Test("The parameter count computed without building is the built model's", arguments: specs)
    func parameterCountMatches(_ spec: ModelSpec) throws {
        try spec.validate()
        var generator = RandomGenerator(seed: 0)
        let built = spec.build(generator: &generator).parameterCount
        #expect(ModelKind.parameterCount(of: spec) == Double(built), "\(spec.name): estimated \(ModelKind.parameterCount(of: spec) ?? -1), built \(built)")
    }

    @Test("Options too large for memory are refused before anything is allocated, naming the option and the size")
    func hugeModelsAreRefused() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        for (flags, flag) in [(["--hidden", "100000000"], "--hidden"), (["--model", "autoencoder", "--latent", "500000000"], "--latent"),
                              (["--model", "deep-autoencoder", "--layers", "100000000,100000000"], "--layers")] {
            let out = try TestSupport.run(trainer, ["train", "--max-steps", "1"] + flags)
            #expect(out.status != 0 && out.status != 132 && out.status != 134, "\(flags): exit \(out.status)")
            #expect(out.stderr.contains(flag) && out.stderr.contains("parameters") && out.stderr.contains("GB"), "\(out.stderr)")
        }
    }
}
