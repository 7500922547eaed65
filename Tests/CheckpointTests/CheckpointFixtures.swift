import Checkpoint
import Foundation
import Testing

/// The parameter layout of the sample states: state_dict order that is not
/// name order ("10.weight" sorts before "2.weight").
let sampleLayout = TensorLayout(names: ["0.weight", "0.bias", "2.weight", "2.bias", "10.weight"],
                                shapes: [[8, 5], [8], [3, 8], [3], [2, 3]])

/// A complete training state with Adam buffers, awkward floats (-0, the
/// largest finite magnitudes, subnormals), a seed above Int64.max and
/// non-ASCII strings, all different for different `step`s.
func sampleState(step: Int = 1200, layout: TensorLayout = sampleLayout) -> TrainingState {
    // Distinct odd seeds: sampleFloats sets the low bit itself.
    let seed = UInt32(step) &* 8
    var values = sampleFloats(layout.count, seed: seed &+ 1)
    // Finite only: a checkpoint holding a NaN or an infinity is refused on read.
    let specials: [Float] = [-.leastNonzeroMagnitude, -0.0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                             .leastNonzeroMagnitude]
    for (index, special) in specials.enumerated() where index < values.count {
        values[index + 1] = special
    }
    return TrainingState(
        parameters: FlatTensors(layout: layout, values: values),
        optimizer: OptimizerState(type: "adam",
                                  hyperParameters: ["lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                                                    "weight_decay": 0.01],
                                  step: step,
                                  buffers: ["exp_avg": sampleFloats(layout.count, seed: seed &+ 3),
                                            "exp_avg_sq": sampleFloats(layout.count, seed: seed &+ 5).map(abs)]),
        epoch: 3, iteration: step % 400, globalStep: step, samplesSeen: step * 64, seed: UInt64.max - 6,
        worldSize: 4, batchSize: 64, model: "mlp",
        modelConfig: #"{"classes":10,"hidden":128,"inputShape":[1,28,28],"name":"mlp"}"#,
        dataset: "fashion-mnist", rngState: [UInt64.max, 0, 1, 0xDEAD_BEEF_CAFE_F00D &+ UInt64(step)],
        created: "2025-01-31T12:00:00.250Z",
        extra: ["configuration": #"{"lr":0.001,"optimizer":"adam"}"#, "note": "β₁ — résumé ✓"])
}

/// The little-endian bytes of `values`.
func bytes(of values: ArraySlice<Float>) -> Data {
    var data = Data()
    for value in values {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
    }
    return data
}

/// Flips every bit of one byte in the middle of the stored values of
/// `values` in the file at `path` (found by searching for their bytes), as
/// disk corruption inside a dataset's data would.
func corruptData(of values: ArraySlice<Float>, inFileAt path: String) throws {
    let url = URL(fileURLWithPath: path)
    var contents = try Data(contentsOf: url)
    let pattern = bytes(of: values)
    let range = try #require(contents.range(of: pattern), "the values' bytes are not in \(path)")
    let target = range.lowerBound + pattern.count / 2
    contents[target] ^= 0xFF
    try contents.write(to: url)
}

/// Cuts the file at `path` down to `length` bytes.
func truncateFile(at path: String, to length: Int) throws {
    let url = URL(fileURLWithPath: path)
    let contents = try Data(contentsOf: url)
    try contents.prefix(length).write(to: url)
}

/// Whether two float arrays hold the same bit patterns (NaN payloads, -0).
func sameBits(_ lhs: [Float], _ rhs: [Float]) -> Bool {
    lhs.map(\.bitPattern) == rhs.map(\.bitPattern)
}

/// Runs `executable` with `arguments` and returns its exit status and its
/// standard output and error together.
func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

/// BatchNorm-like buffers for the sample states: running statistics and a
/// rank-0 `num_batches_tracked`, in state_dict order.
let sampleBufferLayout = TensorLayout(names: ["1.running_mean", "1.running_var", "1.num_batches_tracked"],
                                      shapes: [[8], [8], []])

/// A multistep schedule's state with a one-element list (a list, not a
/// scalar) and an empty one.
let sampleScheduler = SchedulerState(
    type: "multistep",
    scalars: ["last_epoch": 1200, "_step_count": 1201, "gamma": 0.1],
    lists: ["base_lrs": [0.001], "_last_lr": [0.0001], "milestones": [400, 800], "unused": []])

/// `sampleState(step:)` with `sampleBufferLayout` buffers (num_batches_tracked
/// equal to the step) and `sampleScheduler`.
func sampleStateWithBuffers(step: Int = 1200) -> TrainingState {
    var state = sampleState(step: step)
    // Non-negative: a running variance is never below zero (a checkpoint with one is refused).
    var values = sampleFloats(sampleBufferLayout.count, seed: UInt32(step) &* 8 &+ 7).map(abs)
    values[values.count - 1] = Float(step)
    state.buffers = FlatTensors(layout: sampleBufferLayout, values: values)
    state.scheduler = sampleScheduler
    return state
}
