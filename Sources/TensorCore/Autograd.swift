/// One recorded op: its inputs and the single rule that turns the output's
/// gradient into contributions to the inputs' gradients.
///
/// The rule captures the inputs (and whatever forward results it needs as
/// `Storage`, never the output tensor itself, so there is no reference cycle)
/// and must *add* into `input.gradData()`.
final class Node {
    let inputs: [Tensor]
    let backward: (_ gradOutput: Tensor) -> Void

    init(inputs: [Tensor], backward: @escaping (_ gradOutput: Tensor) -> Void) {
        self.inputs = inputs
        self.backward = backward
    }
}

/// Gradient recording on or off for the current task or thread.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording ops (evaluation, optimizer steps).
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
    /// Whether an op's output that reads `inputs` should record a node.
    static func recording(_ inputs: [Tensor]) -> Bool {
        GradMode.isEnabled && inputs.contains { $0.requiresGrad }
    }

    /// Attaches `backward` to `self` when any input requires a gradient.
    /// Returns `self` so ops can end with `return out.recorded(...)`.
    @discardableResult
    func recorded(_ inputs: [Tensor], _ backward: @escaping (_ gradOutput: Tensor) -> Void) -> Tensor {
        if Tensor.recording(inputs) {
            requiresGrad = true
            node = Node(inputs: inputs, backward: backward)
        }
        return self
    }

    /// Reverse-mode differentiation from this tensor.
    ///
    /// Walks a topological order of the graph that produced `self`, seeds the
    /// gradient (ones for a scalar, or `gradient`), and runs each node's rule
    /// in reverse order. Leaves accumulate into `grad`; intermediate gradients
    /// and (unless `retainGraph`) the graph are released as the walk passes.
    ///
    /// `onLeafGradientReady` is called for each leaf that requires a gradient
    /// as soon as no remaining node can add to it: the data-parallel trainer
    /// starts a bucket's allreduce from there while backward goes on.
    public func backward(gradient: Tensor? = nil, retainGraph: Bool = false,
                         onLeafGradientReady: ((Tensor) -> Void)? = nil) {
        ensure(requiresGrad, "backward() on a tensor that does not require grad")
        if let gradient {
            ensure(gradient.shape == shape, "gradient shape \(gradient.shape) != \(shape)")
            let g = gradData()
            for i in 0..<count { g[i] += gradient.data[i] }
        } else {
            ensure(count == 1, "backward() without a gradient needs a scalar, got shape \(shape)")
            gradData()[0] += 1
        }

        let order = topologicalOrder()  // inputs before outputs
        // For each leaf, the position (in the reverse walk) of its last
        // consumer. Leaves are kept in the order the walk meets them, so every
        // rank of a data-parallel job reports them in the same order.
        var readyAt: [[Tensor]] = Array(repeating: [], count: order.count)
        if onLeafGradientReady != nil {
            var lastUse: [ObjectIdentifier: Int] = [:]
            var leaves: [Tensor] = []
            for (step, t) in order.reversed().enumerated() {
                for input in t.node!.inputs where input.node == nil && input.requiresGrad {
                    if lastUse.updateValue(step, forKey: ObjectIdentifier(input)) == nil { leaves.append(input) }
                }
            }
            for leaf in leaves { readyAt[lastUse[ObjectIdentifier(leaf)]!].append(leaf) }
        }

        for (step, t) in order.reversed().enumerated() {
            let node = t.node!
            if let g = t.grad { node.backward(g) }
            t.grad = nil  // intermediate gradients are not kept (as in PyTorch)
            if !retainGraph { t.node = nil }
            if let onLeafGradientReady { for leaf in readyAt[step] { onLeafGradientReady(leaf) } }
        }
    }

    /// Non-leaf tensors reachable from `self`, each after all of its inputs.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative depth-first search: deep graphs must not overflow the stack.
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            guard let node = t.node else { continue }
            if expanded {
                order.append(t)
                continue
            }
            if !visited.insert(ObjectIdentifier(t)).inserted { continue }
            stack.append((t, true))
            for input in node.inputs where input.node != nil && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }
}
