import DataLoading
import Foundation
import NN
import Plotting
import RunLog
import SafeFiles
import TensorCore
import Training

/// Campaign 7: the course's least-squares problem, y = X beta + noise with
/// two features, by gradient descent (lr 0.2) and with momentum 0.3 (lr 1.0),
/// trained like any user's regression: a `Dataset` of the points, a
/// `Linear(2, 1)` without bias from w = 0, MSE, and the trainer's SGD.
enum MomentumCampaign {
    /// Full-batch torch.optim.SGD (one step per epoch, no shuffling) for
    /// `iterations` steps; returns the course's loss ||X w - y||^2 / (2n)
    /// before each step and after the last. MSE is twice that loss, so the
    /// course's rate is halved to take the same steps; torch's momentum
    /// (buf = momentum buf + grad, w -= lr buf) is the course's.
    static func descend(_ points: TensorDataset, lr: Double, momentum: Double, iterations: Int, run: String,
                        _ runner: CampaignRunner) throws -> [Double] {
        var generator = RandomGenerator(seed: runner.options.seed)
        let model = Linear(2, 1, bias: false, generator: &generator)
        model.weight.data.initialize(repeating: 0, count: 2)
        var options = TrainingOptions()
        options.optimizer = .sgd
        options.learningRate = Float(lr / 2)
        options.momentum = Float(momentum)
        options.batchSize = points.count
        options.epochs = iterations
        options.shuffle = false
        options.evaluationBatchSize = points.count
        options.threads = runner.options.threads
        options.prefetch = 0
        options.savesCheckpoints = false  // a campaign's runs are short: rerun, not resumed
        let trainer = try Trainer(model: model, identity: ModelIdentity(name: "least-squares"), train: points, evaluation: points,
                                  loss: .meanSquaredError, options: options, datasetName: "least-squares",
                                  world: runner.communicator.map { .communicator($0) } ?? .alone, showProgress: false)
        try trainer.fit()
        return trainer.records.map { $0.trainLoss / 2 } + [(trainer.records.last?.test.loss ?? .nan) / 2]
    }

    /// The problem: n points, x1 ~ N(0, 1), x2 ~ N(0, 0.5^2), beta = (2, -3), noise N(0, 0.5^2).
    static func problem(seed: UInt64, n: Int = 200) -> (x: [[Double]], y: [Double]) {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func uniform() -> Double {  // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return (Double((z ^ (z >> 31)) >> 11) + 0.5) / 9_007_199_254_740_992
        }
        func normal() -> Double { sqrt(-2 * log(uniform())) * cos(2 * Double.pi * uniform()) }
        let x = (0..<n).map { _ in [normal(), 0.5 * normal()] }
        let y = x.map { 2 * $0[0] - 3 * $0[1] + 0.5 * normal() }
        return (x, y)
    }

    static func run(_ runner: CampaignRunner) throws {
        let iterations = runner.options.scale == .tiny ? 10 : 40
        // The points as the float32 the trainer sees; the optimum below uses the same values.
        let (x64, y64) = problem(seed: runner.options.seed)
        let points = TensorDataset(features: .floats(x64.flatMap { $0.map(Float.init) }), sampleShape: [2],
                                   targets: y64.map(Float.init), targetShape: [1])
        let (x, y) = (x64.map { $0.map { Double(Float($0)) } }, y64.map { Double(Float($0)) })
        let gd = try descend(points, lr: 0.2, momentum: 0, iterations: iterations, run: "gd", runner)
        let heavy = try descend(points, lr: 1.0, momentum: 0.3, iterations: iterations, run: "momentum", runner)
        guard runner.isRoot else { return }
        // The least-squares optimum, from the normal equations.
        let a = (0..<2).map { i in (0..<2).map { j in x.reduce(0) { $0 + $1[i] * $1[j] } } }
        let b = (0..<2).map { i in zip(x, y).reduce(0) { $0 + $1.0[i] * $1.1 } }
        let det = a[0][0] * a[1][1] - a[0][1] * a[1][0]
        let optimum = [(b[0] * a[1][1] - b[1] * a[0][1]) / det, (a[0][0] * b[1] - a[1][0] * b[0]) / det]
        let best = zip(x, y).reduce(0) { $0 + pow($1.0[0] * optimum[0] + $1.0[1] * optimum[1] - $1.1, 2) } / (2 * Double(y.count))
        let steps = (0...iterations).map(Double.init)
        // float32 training resolves the loss to about 1e-7 of its size.
        var plot = LinePlot(title: "Least squares: excess loss L(w) - L(w*) (floored at 1e-8)", xLabel: "iteration", yLabel: "excess loss",
                            yScale: .log)
        plot.add("GD lr 0.2", x: steps, y: gd.map { max($0 - best, 1e-8) })
        plot.add("momentum 0.3, lr 1.0", x: steps, y: heavy.map { max($0 - best, 1e-8) })
        try runner.save(plot.render(), "momentum.png")
        var csv = "iteration,gd_loss,momentum_loss\n"
        for i in 0...iterations { csv += "\(i),\(gd[i]),\(heavy[i])\n" }
        try replaceFile(at: runner.path("metrics/momentum.csv"), with: Array(csv.utf8))

        var report = Report()
        report.heading("Momentum on least squares")
        report.paragraph("y = X beta + noise with \(y.count) points, two features (x1 ~ N(0,1), x2 ~ N(0,0.25)), beta = (2, -3), "
                         + "noise N(0, 0.25); loss ||Xw - y||^2 / (2n) from w = 0. Plain gradient descent with lr 0.2 versus "
                         + "momentum 0.3 (v = 0.3 v + grad, w -= lr v) with lr 1.0, \(iterations) iterations, each a full-batch "
                         + "step of the trainer's SGD on a Linear(2, 1) with MSE (float32; lr halved since MSE is twice the loss). "
                         + "Optimum w* = (\(fixed(optimum[0], 3)), \(fixed(optimum[1], 3))), L(w*) = \(fixed(best)).")
        let marks = [0, 5, 10, 20, iterations].filter { $0 <= iterations }
        report.table(["iteration"] + marks.map(String.init), [
            ["GD lr 0.2"] + marks.map { fixed(gd[$0]) },
            ["momentum 0.3, lr 1.0"] + marks.map { fixed(heavy[$0]) },
        ])
        let faster = heavy[iterations] - best < gd[iterations] - best
        report.heading("Conclusion", level: 2)
        report.paragraph("After \(iterations) iterations the excess loss is \(String(format: "%.2e", gd[iterations] - best)) for "
                         + "plain GD and \(String(format: "%.2e", heavy[iterations] - best)) with momentum: "
                         + (faster ? "momentum (with its larger step) converges much faster, as in the course."
                                   : "momentum did NOT converge faster here."))
        report.figure("loss curves", "momentum.png")
        try runner.finish(report)
    }
}
