// Checkpoint writing under real conditions, run by CheckpointTests.
//
//   checkpoint-writer-selftest loop DIR VALUES
//       Saves checkpoints of steps 1, 2, 3, ... into DIR (keep 2) until it
//       is killed, printing "saved N" after each. Parameters and the two
//       Adam buffers hold VALUES floats each, with contents the test can
//       recompute from the step (`loopValue`), so a checkpoint that survives
//       a SIGKILL during a later write can be checked element by element.
//
//   checkpoint-writer-selftest bench DIR
//       Times snapshot and write for the ~100k-parameter MLP
//       (784-128-10) with Adam state, and prints the file size.

import Checkpoint

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one line to standard output unbuffered (file descriptor 1), so a
/// parent reading the pipe sees it at once, even if this process is killed.
func say(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

/// Writes one line to standard error and exits with status 2.
func fail(_ message: String) -> Never {
    var line = "checkpoint-writer-selftest: " + message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(2)
}

/// Element `index` of the parameters at `step` in loop mode; the test
/// recomputes it. Exact in Float for steps below 2^13.
func loopValue(_ index: Int, step: Int) -> Float {
    Float(step) + Float(index % 1024) / 1024
}

/// A full training state of `layout` for `step`, values from `value`.
func makeState(layout: TensorLayout, step: Int, parameters: [Float], firstMoment: [Float], secondMoment: [Float])
    -> TrainingState
{
    TrainingState(
        parameters: FlatTensors(layout: layout, values: parameters),
        optimizer: OptimizerState(type: "adam",
                                  hyperParameters: ["lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                                                    "weight_decay": 0],
                                  step: step, buffers: ["exp_avg": firstMoment, "exp_avg_sq": secondMoment]),
        epoch: step / 100, iteration: step % 100, globalStep: step, samplesSeen: step * 64, seed: 7, worldSize: 1,
        batchSize: 64, model: "selftest", modelConfig: #"{"values":\#(layout.count)}"#, dataset: "none",
        rngState: [UInt64(step), 2, 3, 4])
}

/// Loop mode: a large checkpoint per step until killed.
func loop(directory: String, values: Int) {
    let rows = max(1, values / 1024)
    let layout = TensorLayout(names: ["0.weight", "0.bias"], shapes: [[rows, 1024], [values - rows * 1024]])
    let checkpoints = CheckpointDirectory(directory, keep: 2)
    do {
        try checkpoints.create()
        var step = 1
        while true {
            let parameters = (0..<layout.count).map { loopValue($0, step: step) }
            let state = makeState(layout: layout, step: step, parameters: parameters,
                                  firstMoment: parameters.map { -$0 }, secondMoment: parameters.map { $0 * 2 })
            try checkpoints.save(state)
            say("saved \(step)")
            step += 1
        }
    } catch {
        fail("\(error)")
    }
}

/// Median of `body`'s wall time in milliseconds over `repeats` runs.
func medianMilliseconds(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        times.append(Double(elapsed.components.attoseconds) * 1e-15 + Double(elapsed.components.seconds) * 1e3)
    }
    return (times.sorted()[times.count / 2] * 1000).rounded() / 1000  // to the microsecond
}

/// Bench mode: the 784-128-10 MLP (101,770 parameters) with Adam state.
func bench(directory: String) {
    let layout = TensorLayout(names: ["1.weight", "1.bias", "3.weight", "3.bias"],
                              shapes: [[128, 784], [128], [10, 128], [10]])
    // The trainer's flat buffers: parameters and the two Adam moments.
    let parameters = UnsafeMutableBufferPointer<Float>.allocate(capacity: layout.count)
    let firstMoment = UnsafeMutableBufferPointer<Float>.allocate(capacity: layout.count)
    let secondMoment = UnsafeMutableBufferPointer<Float>.allocate(capacity: layout.count)
    for index in 0..<layout.count {
        parameters[index] = Float(index % 977) * 1e-3 - 0.5
        firstMoment[index] = Float(index % 89) * 1e-5
        secondMoment[index] = Float(index % 97) * 1e-8
    }
    func snapshot(step: Int) -> TrainingState {
        TrainingState(
            parameters: FlatTensors(layout: layout, copying: UnsafeBufferPointer(parameters)),
            optimizer: OptimizerState(
                type: "adam",
                hyperParameters: ["lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0],
                step: step,
                buffers: ["exp_avg": Array(UnsafeBufferPointer(firstMoment)),
                          "exp_avg_sq": Array(UnsafeBufferPointer(secondMoment))]),
            epoch: 1, iteration: step, globalStep: step, samplesSeen: step * 64, seed: 0, worldSize: 1, batchSize: 64,
            model: "mlp", modelConfig: #"{"classes":10,"hidden":128,"inputShape":[1,28,28],"name":"mlp"}"#,
            dataset: "fashion-mnist", rngState: [1, 2, 3, 4])
    }
    do {
        let checkpoints = CheckpointDirectory(directory, keep: 3)
        try checkpoints.create()
        var step = 0
        var state = snapshot(step: 0)
        let snapshotMs = medianMilliseconds(200) { state = snapshot(step: 1) }
        let hdf5Path = checkpoints.path(of: "plain.h5")
        let hdf5Ms = try medianMilliseconds(20) { try CheckpointFile.write(state, to: hdf5Path) }
        let saveMs = try medianMilliseconds(20) {
            step += 1
            state.globalStep = step
            try checkpoints.save(state)
        }
        let readMs = try medianMilliseconds(20) { _ = try CheckpointFile.read(hdf5Path) }
        let writer = CheckpointWriter(directory: checkpoints)
        var returnTimes: [Double] = []
        for _ in 0..<20 {
            step += 1
            state.globalStep = step
            try writer.waitUntilIdle()
            returnTimes.append(try medianMilliseconds(1) { try writer.save(state) })
        }
        let saved = try writer.waitUntilIdle()
        say("parameters \(layout.count) (+ exp_avg, exp_avg_sq)")
        say("snapshot_ms \(snapshotMs)")
        say("hdf5_write_ms \(hdf5Ms)")
        say("save_ms \(saveMs)")
        say("read_verify_ms \(readMs)")
        say("background_save_return_ms \(returnTimes.sorted()[returnTimes.count / 2])")
        say("file_bytes \(saved?.bytes ?? 0)")
    } catch {
        fail("\(error)")
    }
}

let arguments = CommandLine.arguments
switch arguments.count > 2 ? arguments[1] : "" {
case "loop":
    guard arguments.count == 4, let values = Int(arguments[3]), values >= 1024 else {
        fail("usage: checkpoint-writer-selftest loop DIR VALUES (VALUES >= 1024)")
    }
    loop(directory: arguments[2], values: values)
case "bench":
    bench(directory: arguments[2])
default:
    fail("usage: checkpoint-writer-selftest loop DIR VALUES | bench DIR")
}
