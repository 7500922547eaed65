import Checkpoint
import DataFiles
import DataLoading

/// One reader that users feed files to, run on one file as the program
/// would run it.
///
/// The project's promise for every one of them: a bad file is refused with
/// a thrown error whose message names the file, never a trap, a crash or an
/// absurd allocation. The fuzzer finds traps and crashes by themselves; a
/// refusal that does not name the file is reported as a `Violation`.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// `IDXFile(contentsOf:)`: MNIST and Fashion-MNIST files, gzipped or plain.
    case idx
    /// `CIFAR10File(contentsOf:)`: CIFAR-10 binary batches, gzipped or plain.
    case cifar10
    /// `CheckpointInspector.report(path:)` (`trainer inspect`), which runs
    /// `CheckpointFile.read(_:)` (resuming) and then walks the whole file.
    case checkpoint
    /// `HDF5DataFile.load(_:)` (`trainer train --data FILE.h5`), then the
    /// first and last sample of both splits.
    case datafile

    /// What became of one file.
    enum Outcome {
        /// Read: a short description of what was in it.
        case accepted(String)
        /// Refused with an error naming the file: its message.
        case refused(String)
    }

    /// A refusal that breaks the promise: the message does not name the file.
    struct Violation: Error, CustomStringConvertible {
        let target: FuzzTarget
        let path: String
        let message: String

        var description: String {
            "\(target.rawValue): the error for \(path) does not name the file: \(message)"
        }
    }

    /// Runs the reader on the file at `path`.
    func read(_ path: String) throws(Violation) -> Outcome {
        let outcome: Outcome
        do {
            outcome = try readThrowing(path)
        } catch {
            outcome = .refused("\(error)")
        }
        if case .refused(let message) = outcome, !message.contains(path) {
            throw Violation(target: self, path: path, message: message)
        }
        return outcome
    }

    private func readThrowing(_ path: String) throws -> Outcome {
        switch self {
        case .idx:
            let file = try IDXFile(contentsOf: path)
            precondition(file.bytes.count == file.dimensions.reduce(1, *), "IDX payload and header disagree")
            return .accepted("\(file.content) \(file.dimensions)")
        case .cifar10:
            let file = try CIFAR10File(contentsOf: path)
            precondition(file.pixels.count == file.count * CIFAR10File.imageSize, "CIFAR-10 pixels and labels disagree")
            return .accepted("\(file.count) records")
        case .checkpoint:
            // The report never throws; its verdict line carries read(_:)'s error.
            let report = CheckpointInspector.report(path: path)
            let verdict = report.split(separator: "\n").first { $0.hasPrefix("valid: ") } ?? "valid: (no verdict line)"
            if verdict.hasPrefix("valid: NO: ") {
                return .refused(String(verdict.dropFirst("valid: NO: ".count)))
            }
            return .accepted("\(report.split(separator: "\n").count) report lines, \(verdict)")
        case .datafile:
            let splits = try HDF5DataFile.load(path)
            for dataset in [splits.train, splits.test] where dataset.count > 0 {
                var target = [Float](repeating: 0, count: max(dataset.targetSize, 1))
                for index in Set([0, dataset.count - 1]) {
                    _ = dataset[index]
                    dataset.copyTarget(at: index, into: &target)
                }
                if let failure = dataset.readFailure { throw failure }
            }
            return .accepted("\(splits.train.count) train and \(splits.test.count) test samples of \(splits.train.sampleShape)")
        }
    }
}
