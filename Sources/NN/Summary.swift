import TensorCore

/// Collects one row per module call while `summary(inputShape:)` runs a
/// forward pass, like torchinfo's `summary`.
///
/// `@unchecked Sendable` because a task-local value must be Sendable: the
/// recorder is bound only for one synchronous forward pass on one thread and
/// never escapes it.
final class SummaryRecorder: @unchecked Sendable {
    @TaskLocal static var current: SummaryRecorder?

    struct Row {
        var depth: Int
        var module: any Module
        var outputShape: [Int] = []
    }

    private(set) var rows: [Row] = []
    private var depth = 0

    func enter(_ module: any Module) -> Int {
        rows.append(Row(depth: depth, module: module))
        depth += 1
        return rows.count - 1
    }

    func exit(_ row: Int, output: Tensor) {
        depth -= 1
        rows[row].outputShape = output.shape
    }
}

extension Module {
    /// Elements of every leaf layer's output for one forward pass on zeros
    /// of `inputShape` (in eval mode, no graph kept): what a batch of that
    /// shape holds in activations, for estimating memory before training.
    public func activationCount(inputShape: [Int]) -> Int {
        recordedForward(inputShape: inputShape).rows.filter { $0.module.children.isEmpty }.reduce(0) { $0 + $1.outputShape.reduce(1, *) }
    }

    /// One forward pass on zeros of `inputShape`, recording every module
    /// call, in eval mode and without a graph; each layer's mode is restored.
    private func recordedForward(inputShape: [Int]) -> SummaryRecorder {
        let recorder = SummaryRecorder()
        let modes = modeDependentLayers().map { ($0, $0.isTraining) }
        eval()
        withNoGrad {
            SummaryRecorder.$current.withValue(recorder) { _ = self(Tensor.zeros(inputShape)) }
        }
        for (layer, mode) in modes { layer.isTraining = mode }
        return recorder
    }

    /// A table of every layer called by a forward pass on zeros of
    /// `inputShape`: layer, output shape, parameter count, and the totals.
    ///
    /// The pass runs in evaluation mode (each layer's mode is restored after),
    /// so a summary changes no running statistics and works for any batch size.
    public func summary(inputShape: [Int]) -> String {
        let recorder = recordedForward(inputShape: inputShape)
        var lines: [(String, String, String)] = []
        for row in recorder.rows {
            let name = String(describing: type(of: row.module))
            let config = row.module.configurationDescription
            let label = String(repeating: "  ", count: row.depth) + name + (config.isEmpty ? "" : " (\(config))")
            let own = row.module.parameterCount
            lines.append((label, "\(row.outputShape)", own == 0 ? "--" : formatCount(own)))
        }
        let header = ("Layer (type)", "Output Shape", "Param #")
        let w0 = max(header.0.count, lines.map(\.0.count).max() ?? 0)
        let w1 = max(header.1.count, lines.map(\.1.count).max() ?? 0)
        let w2 = max(header.2.count, lines.map(\.2.count).max() ?? 0)
        func pad(_ s: String, _ w: Int, right: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, w - s.count))
            return right ? fill + s : s + fill
        }
        let rule = String(repeating: "=", count: w0 + w1 + w2 + 6)
        var out = [rule, "\(pad(header.0, w0))   \(pad(header.1, w1))   \(pad(header.2, w2, right: true))", rule]
        for l in lines { out.append("\(pad(l.0, w0))   \(pad(l.1, w1))   \(pad(l.2, w2, right: true))") }
        out.append(rule)
        out.append("Total params: \(formatCount(parameterCount))")
        out.append("Input shape: \(inputShape)")
        out.append(rule)
        return out.joined(separator: "\n")
    }
}

/// 101770 -> "101,770".
func formatCount(_ n: Int) -> String {
    let digits = Array(String(n))
    var out = ""
    for (i, d) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(d)
    }
    return out
}
