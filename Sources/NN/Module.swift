import TensorCore

/// A layer or model: a forward computation, its own parameters, buffers and
/// sub-modules, named so that the dotted paths are PyTorch's state_dict keys
/// (`0.weight`, `encoder.bias`, `bn.running_mean`).
///
/// Implement `forward(_:)`; call a module as `module(x)`, which also lets
/// `summary(inputShape:)` see every layer's output.
public protocol Module: AnyObject {
    /// The computation. Call the module itself (`callAsFunction`) instead.
    func forward(_ input: Tensor) -> Tensor
    /// Parameters owned directly by this module, with local names (`weight`);
    /// by default its stored tensors that require a gradient
    /// (Module+Reflection.swift).
    var localParameters: [(name: String, tensor: Tensor)] { get }
    /// Non-trainable state owned directly by this module (PyTorch's
    /// `register_buffer`: BatchNorm's `running_mean`). Buffers are saved and
    /// loaded with the state dict but are not parameters: no gradient, no
    /// optimizer, no gradient allreduce.
    var localBuffers: [(name: String, tensor: Tensor)] { get }
    /// Sub-modules with local names (`0`, `encoder`); by default the modules
    /// its stored properties hold (Module+Reflection.swift).
    var children: [(name: String, module: any Module)] { get }
    /// Constructor arguments shown in summaries, e.g. "784 -> 128".
    var configurationDescription: String { get }
}

extension Module {
    public var localBuffers: [(name: String, tensor: Tensor)] { [] }
    public var configurationDescription: String { "" }

    /// Runs `forward`, reporting the output to a summary in progress.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard let recorder = SummaryRecorder.current else { return forward(input) }
        let row = recorder.enter(self)
        let output = forward(input)
        recorder.exit(row, output: output)
        return output
    }

    /// Every parameter with its dotted name, in registration order. A tensor
    /// reached twice (tied weights) is listed once, under its first name.
    public func namedParameters() -> [(name: String, tensor: Tensor)] { named(\.localParameters) }

    /// Every buffer with its dotted name, in registration order, each tensor
    /// once (as `namedParameters()`).
    public func namedBuffers() -> [(name: String, tensor: Tensor)] { named(\.localBuffers) }

    /// Every module of the tree with its dotted name ("" for this one), depth
    /// first in registration order, as PyTorch's `named_modules()`. A module
    /// reached again (shared, or a property pointing back up the tree) is
    /// listed once, under its first name, so no walk can loop.
    public func namedModules() -> [(name: String, module: any Module)] {
        var visited = Set<ObjectIdentifier>()
        var result: [(name: String, module: any Module)] = []
        func walk(_ module: any Module, name: String) {
            guard visited.insert(ObjectIdentifier(module)).inserted else { return }
            result.append((name, module))
            for (child, module) in module.children { walk(module, name: name.isEmpty ? child : name + "." + child) }
        }
        walk(self, name: "")
        return result
    }

    /// The tensors `local` lists in every module of the tree, depth first,
    /// with dotted names; each tensor once, under its first name.
    func named(_ local: (any Module) -> [(name: String, tensor: Tensor)]) -> [(name: String, tensor: Tensor)] {
        var seen = Set<ObjectIdentifier>()
        return namedModules().flatMap { prefix, module in
            local(module).compactMap { name, tensor in
                seen.insert(ObjectIdentifier(tensor)).inserted ? (prefix.isEmpty ? name : prefix + "." + name, tensor) : nil
            }
        }
    }

    /// The parameters in registration order.
    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// Total number of parameter elements.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.tensor.count } }
}

/// A module with no parameters that applies a tensor function (activations).
public final class Lambda: Module {
    let name: String
    let body: (Tensor) -> Tensor

    public init(_ name: String, _ body: @escaping (Tensor) -> Tensor) {
        self.name = name
        self.body = body
    }

    public func forward(_ input: Tensor) -> Tensor { body(input) }
    public var configurationDescription: String { name }
}
