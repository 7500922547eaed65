import ArgumentParser
import DataFiles
import DataLoading
import Foundation
import HDF5
import RunLog
import SafeFiles
import Training

/// `trainer check-data FILE` (hidden): reads a `--data` file as `train`
/// would and exits 0 or 1, in a process of its own (see `preflight`).
struct CheckDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-data", abstract: "Read a --data file as train would (used by train itself).",
        shouldDisplay: false)

    @Argument var path: String

    @Option(parsing: .unconditional) var valFraction = 0.1

    func run() throws {
        let splits = try HDF5DataFile.load(path, validationFraction: valFraction)
        // Training reads chunked or compressed samples through the library,
        // which may crash on a damaged chunk: read each once here, in order
        // (each chunk decoded once, memory bounded by the chunk cache).
        // Contiguous samples are read with pread, never by the library.
        for case let dataset as HDF5FileDataset in [splits.train, splits.test] where !dataset.isReadWithPread {
            var sample = [Float](repeating: 0, count: max(dataset.sampleSize, 1))
            for index in 0..<dataset.count {
                _ = dataset.copySample(at: index, into: &sample)
            }
            if let failure = dataset.readFailure { throw failure }
        }
    }

    /// Reads `path` in a child process first, so that a file that crashes
    /// the HDF5 library (Debian's 1.10 segfaults on some damaged files of the
    /// oldest format, which carry no checksums; found by fuzzing) is an
    /// error naming it instead of a crash of the trainer. The child gets no
    /// OMPI_/PMIX_ variables, so it never joins the MPI job. Any other
    /// outcome, success or a clean refusal, is left to the real read.
    ///
    /// A file that passed is remembered (`RecordCache`) under its identity
    /// and not read again while it stays the same: for a chunked or
    /// compressed file the child decodes every sample (issue 21: the start
    /// must not grow with the data).
    static func preflight(_ path: String, validationFraction: Double) throws {
        let key = FileIdentity(path: path).map { "check-data-1|\(validationFraction)|\($0)" }
        if let key, RecordCache.shared?.value(for: key) == "passed" { return }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["check-data", path, "--val-fraction", String(validationFraction)]
        child.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
            .merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        do {
            try child.run()
        } catch {
            return  // no child to be had: the real read still reports what it can
        }
        child.waitUntilExit()
        // A crash is a fault signal; SIGKILL is the kernel's OOM killer (or a
        // user), not the file: a 3 GB file read whole under a 1 GB limit was
        // reported as "damaged" (issue 21).
        let faults: [Int32] = [SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE]
        if child.terminationReason == .uncaughtSignal && faults.contains(child.terminationStatus) {
            throw TrainingError.invalidOption(.dataFile, "\(path): reading it crashed the HDF5 library (signal "
                                              + "\(child.terminationStatus)): the file is damaged; h5dump or h5py may show where")
        }
        if let key, child.terminationReason == .exit && child.terminationStatus == 0 {
            RecordCache.shared?.store("passed", for: key)
        }
    }
}
