/// A layer that behaves differently in training and in evaluation
/// (PyTorch's `module.training`): Dropout drops only in training, BatchNorm
/// uses batch statistics and updates its running estimates only in training.
///
/// `Module.train()` and `Module.eval()` set the mode on every such layer of a
/// model; a new layer starts in training mode, as in PyTorch.
public protocol ModeDependent: AnyObject {
    /// True in training mode (the default), false in evaluation mode.
    var isTraining: Bool { get set }
}

extension Module {
    /// Sets training mode (`mode` true, the default) or evaluation mode
    /// (false) on this module and every module below it, as PyTorch's
    /// `module.train(mode)`. Returns the module for chaining.
    @discardableResult
    public func train(_ mode: Bool = true) -> Self {
        for layer in modeDependentLayers() { layer.isTraining = mode }
        return self
    }

    /// Sets evaluation mode on the whole module tree: `train(false)`.
    @discardableResult
    public func eval() -> Self { train(false) }
}

extension Module {
    /// Every mode-dependent layer of the tree, each once.
    func modeDependentLayers() -> [any ModeDependent] {
        namedModules().compactMap { $0.module as? any ModeDependent }
    }
}
