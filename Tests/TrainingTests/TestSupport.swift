import Foundation
import ModelZoo
import Testing
import Training

/// Paths and helpers shared by the Training tests.
enum TestSupport {
    /// The package root (two levels above this file's folder).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// Tests/Fixtures: files the tests read (h5py's layouts, crafted files).
    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")

    static let fashionMNIST = "/usr/share/datasets/fashion-mnist"
    static var hasFashionMNIST: Bool {
        FileManager.default.fileExists(atPath: fashionMNIST + "/train-images-idx3-ubyte.gz")
    }

    /// The real MNIST test set beside the project (../shared/data/mnist), if present.
    static let sharedMNIST = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/mnist").path
    static var hasSharedMNIST: Bool {
        FileManager.default.fileExists(atPath: sharedMNIST + "/t10k-images-idx3-ubyte.gz")
    }

    /// The `trainer` executable built alongside the test bundle.
    static var trainerExecutable: URL? {
        var candidates: [URL] = []
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = runner.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("trainer"))
            dir = dir.deletingLastPathComponent()
        }
        for config in ["release", "debug"] {
            candidates.append(packageRoot.appendingPathComponent(".build/\(config)/trainer"))
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `executable` with `arguments`, capturing both streams. A
    /// `train` without `--checkpoint-dir` gets a fresh temporary one, so no
    /// test writes into the package or resumes another test's checkpoints.
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws -> Output {
        var arguments = arguments
        if arguments.contains("train") && !arguments.contains("--checkpoint-dir") && !arguments.contains("--help") {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trainer-tests-\(UUID().uuidString)")
            arguments += ["--checkpoint-dir", directory.path]
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        // Never hand a child this process's OpenMPI/PMIx variables: a trainer
        // that inherits them believes it was started by mpirun.
        process.environment = environment ?? childEnvironment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting so a full pipe cannot block the child.
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// mpirun's path, if it is on PATH.
    static let mpirun: URL? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("mpirun") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// Runs `trainer arguments` under `mpirun -np np` with what this machine
    /// needs (--allow-run-as-root, --oversubscribe), without this test
    /// process's OMPI_* and PMIX_* variables: it may have initialised MPI
    /// itself, and a child that inherits them tries to join that world.
    /// `variables` are set for every rank (`-x`).
    static func mpirun(np: Int, _ arguments: [String], mca: [String] = [], variables: [String: String] = [:]) throws -> Output {
        let mpirun = try #require(mpirun, "mpirun is not on PATH")
        let trainer = try #require(trainerExecutable, "trainer executable not built next to the tests")
        let environment = childEnvironment.merging(variables) { $1 }
        let exports = variables.keys.sorted().flatMap { ["-x", $0] }
        let launch = ["--allow-run-as-root", "--oversubscribe", "-np", String(np)] + exports + mca + [trainer.path]
        return try run(mpirun, launch + arguments, environment: environment)
    }

    /// Reads a raw little-endian float32 file (`--save-parameters`).
    static func floats(at path: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// A metrics file's lines with the fields that differ between equal runs
    /// by construction (timings, the world size, the run id) removed, keys sorted.
    static func comparableRecords(_ path: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            var record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for key in ["samples_per_s", "epoch_seconds", "world_size", "run"] { record[key] = nil }
            return String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self)
        }
    }

    /// A training configuration whose checkpoints go to a fresh temporary
    /// directory (or `directory/checkpoints`), so tests never resume each other.
    static func configuration(_ model: ModelSpec, directory: URL? = nil) -> TrainingConfiguration {
        var c = TrainingConfiguration(model: model)
        let base = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("trainer-tests-\(UUID().uuidString)")
        c.checkpointDirectory = base.appendingPathComponent("checkpoints").path
        return c
    }

    /// Runs `trainer` and returns its epoch records.
    static func records(of trainer: Trainer) throws -> [EpochRecord] {
        try trainer.run()
        return trainer.records
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("trainer-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
