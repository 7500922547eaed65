import NN
import TensorExpectations
import Testing
import TensorCore

// Parameter discovery and dotted names (PyTorch's state_dict keys).

/// A model with named children, as a user would write one.
final class AutoEncoder: Module {
    let encoder: Linear
    let decoder: Linear

    init(generator: inout RandomGenerator) {
        encoder = Linear(4, 2, generator: &generator)
        decoder = Linear(2, 4, generator: &generator)
    }

    func forward(_ input: Tensor) -> Tensor { decoder(encoder(input).tanh()) }

    var children: [(name: String, module: any Module)] { [("encoder", encoder), ("decoder", decoder)] }
}

/// x W^T for a weight owned by another module (tied weights).
final class SharedWeightLinear: Module {
    let weight: Tensor
    init(sharing weight: Tensor) { self.weight = weight }
    func forward(_ input: Tensor) -> Tensor { Tensor.linear(input, weight: weight, bias: nil) }
    var localParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }
}

/// Two modules using one tensor: `second` reuses `first`'s weight.
final class TiedPair: Module {
    let first: Linear
    let second: SharedWeightLinear
    let scale: Tensor

    init(generator: inout RandomGenerator) {
        first = Linear(3, 3, generator: &generator)
        second = SharedWeightLinear(sharing: first.weight)
        scale = Tensor.ones([3], requiresGrad: true)
    }

    func forward(_ input: Tensor) -> Tensor { second(first(input)) * scale }

    var localParameters: [(name: String, tensor: Tensor)] { [("scale", scale)] }
    var children: [(name: String, module: any Module)] { [("first", first), ("second", second)] }
}

@Test func sequentialNamesLayersByIndex() {
    var generator = RandomGenerator(seed: 20)
    let model = Sequential(Linear(4, 8, generator: &generator), ReLU(), Linear(8, 2, generator: &generator))
    #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
    #expect(model.parameterCount == 4 * 8 + 8 + 8 * 2 + 2)
    #expect(model.parameters().count == 4)
}

@Test func customModuleNamesChildren() {
    var generator = RandomGenerator(seed: 21)
    let model = AutoEncoder(generator: &generator)
    #expect(model.namedParameters().map(\.name) == ["encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias"])
    #expect(model.namedParameters()[0].tensor === model.encoder.weight)
    #expect(model(Tensor.zeros([5, 4])).shape == [5, 4])
}

@Test func nestedNamesJoinWithDots() {
    var generator = RandomGenerator(seed: 22)
    let inner = Sequential(Linear(2, 2, generator: &generator), Tanh())
    let model = Sequential(AutoEncoder(generator: &generator), Sigmoid(), inner)
    #expect(model.namedParameters().map(\.name) == [
        "0.encoder.weight", "0.encoder.bias", "0.decoder.weight", "0.decoder.bias", "2.0.weight", "2.0.bias",
    ])
}

@Test func tiedParameterIsListedOnce() {
    var generator = RandomGenerator(seed: 23)
    let model = TiedPair(generator: &generator)
    #expect(model.namedParameters().map(\.name) == ["scale", "first.weight", "first.bias"])
    #expect(model.parameterCount == 3 + 9 + 3)
}

@Test func activationModulesApplyTheirOps() {
    let x = Tensor(shape: [2, 1, 2], values: [-1, 0.5, 2, -3])
    #expect(ReLU()(x).scalars == x.relu().scalars)
    #expect(Sigmoid()(x).scalars == x.sigmoid().scalars)
    #expect(Tanh()(x).scalars == x.tanh().scalars)
    #expect(Flatten()(x).shape == [2, 2])
    #expect(Lambda("double") { $0 * 2 }(x).scalars == [-2, 1, 4, -6])
    #expect(ReLU().namedParameters().isEmpty)
}

/// A model that lists nothing: its layers, a list of layers, an optional
/// layer, a parameter tensor and a constant are found in its properties.
class ReflectedBase: Module {
    let stem: Linear
    init(generator: inout RandomGenerator) { stem = Linear(3, 3, generator: &generator) }
    func forward(_ input: Tensor) -> Tensor { stem(input) }
}

final class ReflectedModel: ReflectedBase {
    let blocks: [Linear]
    let skipped: Linear?
    let extra: Linear?
    let scale: Tensor
    let constant = Tensor(shape: [3], values: [1, 2, 3])
    var parent: ReflectedModel?

    override init(generator: inout RandomGenerator) {
        blocks = [Linear(3, 3, generator: &generator), Linear(3, 3, bias: false, generator: &generator)]
        skipped = nil
        extra = Linear(3, 1, generator: &generator)
        scale = Tensor(shape: [1], values: [0.5])
        scale.requiresGrad = true
        super.init(generator: &generator)
    }

    override func forward(_ input: Tensor) -> Tensor {
        extra!(blocks.reduce(super.forward(input)) { $1($0) }) * scale
    }
}

@Test("A module that lists no children or parameters has them found in its stored properties, superclass first, in declaration order: arrays as name.0, name.1, set optionals, tensors that require a gradient; a property pointing back up the tree is walked once (namedModules, stateDict, train/eval end)")
func parametersFoundByReflection() {
    var generator = RandomGenerator(seed: 3)
    let model = ReflectedModel(generator: &generator)
    model.parent = model
    #expect(model.namedParameters().map(\.name) == ["scale", "stem.weight", "stem.bias", "blocks.0.weight", "blocks.0.bias",
                                                    "blocks.1.weight", "extra.weight", "extra.bias"])
    #expect(model.children.map(\.name) == ["stem", "blocks.0", "blocks.1", "extra", "parent"])
    // Walks over the tree end although `parent` points back up it.
    #expect(model.namedModules().map(\.name) == ["", "stem", "blocks.0", "blocks.1", "extra"])
    #expect(model.stateDict().count == 8)
    model.eval().train()
    // Every parameter gets a gradient through backward.
    let x = randomTensor([2, 3], seed: 4)
    model(x).sum().backward()
    #expect(model.parameters().allSatisfy { $0.grad != nil })
}
