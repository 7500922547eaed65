import TensorCore

/// A module's sub-modules and parameters found in its stored properties,
/// the default when it does not list them (`children`, `localParameters`).
///
/// A hand-written list is easy to forget: a model whose author left out
/// `children` silently lost those layers' parameters, which were then not
/// trained, not reduced across ranks and not checkpointed. As in PyTorch
/// (attributes register themselves) and mlx-swift (found by reflection),
/// a property that holds a module is a child named after the property; an
/// array of modules gives `name.0`, `name.1`, ... (PyTorch's `ModuleList`);
/// an optional one counts when set. A `Tensor` property that requires a
/// gradient is a parameter of the module (PyTorch's `nn.Parameter`).
/// Properties are taken in declaration order, superclass first. A module
/// that lists its own still overrides these.
extension Module {
    public var children: [(name: String, module: any Module)] {
        reflectedProperties().flatMap { name, value -> [(name: String, module: any Module)] in
            if let module = value as? any Module { return [(name, module)] }
            if let modules = value as? [any Module] { return modules.enumerated().map { ("\(name).\($0.offset)", $0.element) } }
            return []
        }
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        reflectedProperties().compactMap { name, value in
            (value as? Tensor).flatMap { $0.requiresGrad ? (name, $0) : nil }
        }
    }

    /// The stored properties (label, value), superclass first; optionals
    /// unwrapped, unset ones left out.
    private func reflectedProperties() -> [(name: String, value: Any)] {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let current = mirror {
            mirrors.insert(current, at: 0)
            mirror = current.superclassMirror
        }
        return mirrors.flatMap { mirror in
            mirror.children.compactMap { child -> (name: String, value: Any)? in
                guard let label = child.label else { return nil }
                let unwrapped = Mirror(reflecting: child.value)
                if unwrapped.displayStyle == .optional {
                    return unwrapped.children.first.map { (label, $0.value) }
                }
                return (label, child.value)
            }
        }
    }
}
