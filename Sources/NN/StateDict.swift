import TensorCore

/// What `loadStateDict` found wrong, PyTorch-style.
public struct StateDictError: Error, CustomStringConvertible {
    /// Parameters and buffers of the model absent from the state.
    public var missingKeys: [String]
    /// Entries of the state the model has no parameter or buffer for.
    public var unexpectedKeys: [String]
    /// Entries whose shape differs from the model's: (name, expected, found).
    public var shapeMismatches: [(name: String, expected: [Int], found: [Int])]

    public var isEmpty: Bool { missingKeys.isEmpty && unexpectedKeys.isEmpty && shapeMismatches.isEmpty }

    public var description: String {
        var parts: [String] = []
        if !missingKeys.isEmpty { parts.append("missing keys: \(missingKeys.joined(separator: ", "))") }
        if !unexpectedKeys.isEmpty { parts.append("unexpected keys: \(unexpectedKeys.joined(separator: ", "))") }
        for m in shapeMismatches {
            parts.append("size mismatch for \(m.name): model has \(m.expected), state has \(m.found)")
        }
        return "Error loading state dict: " + parts.joined(separator: "; ")
    }
}

extension Module {
    /// Parameters and buffers by dotted name, as copies (PyTorch's
    /// `state_dict()`), in PyTorch's order: for each module, its parameters,
    /// then its buffers, then its children's entries. A tensor reached twice
    /// (tied weights) is listed once, under its first name.
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        namedState().map { ($0.name, $0.tensor.copy()) }
    }

    /// The tensors of `stateDict()`, not copied.
    func namedState() -> [(name: String, tensor: Tensor)] { named { $0.localParameters + $0.localBuffers } }

    /// Copies `state` into the parameters and buffers. Shape mismatches always throw;
    /// missing and unexpected keys throw when `strict`, otherwise they are
    /// returned. Nothing is copied unless every check passes.
    @discardableResult
    public func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws -> StateDictError {
        let named = namedState()
        var report = StateDictError(missingKeys: [], unexpectedKeys: [], shapeMismatches: [])
        let names = Set(named.map(\.name))
        report.unexpectedKeys = state.keys.filter { !names.contains($0) }.sorted()
        for (name, tensor) in named {
            guard let value = state[name] else {
                report.missingKeys.append(name)
                continue
            }
            if value.shape != tensor.shape { report.shapeMismatches.append((name, tensor.shape, value.shape)) }
        }
        if !report.shapeMismatches.isEmpty || (strict && !report.isEmpty) { throw report }
        for (name, tensor) in named {
            if let value = state[name] { tensor.data.update(from: value.data, count: tensor.count) }
        }
        return report
    }
}
