import Checkpoint
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The user programs in Examples/, written against the public API only:
/// they run alone and under mpirun, and a rank SIGKILLed mid-run followed by
/// the same command again ends with bitwise the parameters of an
/// uninterrupted run, as for `trainer train`.
@Suite("Examples: user programs on the training API", .serialized,
       .enabled(if: TestSupport.canRunRestartTests, "needs mpirun (openmpi-bin), Fashion-MNIST and the built examples"))
final class ExamplesTests {
    let scratch: URL

    init() throws { scratch = try TestSupport.temporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    /// An example program built next to the tests, with the checkpoint
    /// directory it writes (relative to its working directory).
    struct Example {
        let name: String
        let checkpoints: String
        var arguments: [String] = []
        /// Set for the program only (CKERNELS_ISA, say).
        var environment: [String: String] = [:]
    }

    static let ownModel = Example(name: "own-model", checkpoints: "runs/highway")
    static let leastSquares = Example(name: "least-squares", checkpoints: "runs/least-squares")
    static let recordFile = Example(name: "record-file", checkpoints: "runs/record-file", arguments: ["--max-steps", "30"])

    /// `user-model MODEL` for `steps` steps in deterministic mode, four
    /// micro-batches, without BatchNorm (which that mode refuses).
    static func userModel(_ model: String, steps: Int) -> Example {
        Example(name: "user-model", checkpoints: "runs/\(model)",
                arguments: [model, "--max-steps", String(steps), "--deterministic", "--micro-batches", "4",
                            "--without-batchnorm"])
    }

    func executable(_ example: Example) throws -> URL {
        let trainer = try #require(TestSupport.trainerExecutable)
        let url = trainer.deletingLastPathComponent().appendingPathComponent(example.name)
        try #require(FileManager.default.isExecutableFile(atPath: url.path), "\(url.path) is not built")
        return url
    }

    /// Starts `example` in a fresh working directory `folder` (alone, or
    /// under mpirun at `np`).
    func start(_ example: Example, np: Int, in folder: URL, log: String) throws -> BackgroundProcess {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let settings = example.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let program = try (["env"] + settings + [executable(example).path] + example.arguments).map { "'\($0)'" }
            .joined(separator: " ")
        let mpirun = try #require(TestSupport.mpirun).path
        let command = np == 1 ? "exec \(program)"
            : "exec '\(mpirun)' --allow-run-as-root --oversubscribe -np \(np) \(program)"
        // /proc/PID/stat truncates names to 15 characters.
        return try BackgroundProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "cd '\(folder.path)' && \(command)"],
                                     log: folder.appendingPathComponent(log), rankName: String(example.name.prefix(15)))
    }

    func run(_ example: Example, np: Int, in folder: URL, log: String = "run.log") throws -> TestSupport.Output {
        let job = try start(example, np: np, in: folder, log: log)
        return try TestSupport.finish(job, seconds: 120, what: "\(example.name) at np=\(np)")
    }

    /// The parameters of the newest checkpoint in `folder`.
    func finalParameters(_ example: Example, in folder: URL) throws -> [Float] {
        let directory = CheckpointDirectory(folder.appendingPathComponent(example.checkpoints).path)
        let newest = try #require(try directory.checkpoints().last, "no checkpoint in \(directory.path)")
        return try CheckpointFile.read(newest.path).parameters.values
    }

    func latestStep(_ example: Example, in folder: URL) -> Int? {
        CheckpointDirectory(folder.appendingPathComponent(example.checkpoints).path).latest()
            .flatMap(CheckpointDirectory.globalStep(fromFileName:))
    }

    /// Runs `example` at np=2 uninterrupted, and again with one rank
    /// SIGKILLed after checkpoint `step` and the same command run again.
    func expectKillAndRerunIsExact(_ example: Example, killAfter step: Int) throws {
        let straight = scratch.appendingPathComponent("\(example.name)-straight")
        let out = try run(example, np: 2, in: straight)
        try #require(out.status == 0, "\(out.stdout)")
        let reference = try finalParameters(example, in: straight)

        let folder = try RestartTests.retrying("a SIGKILL before \(example.name) finished") { attempt -> URL? in
            let folder = scratch.appendingPathComponent("\(example.name)-killed-\(attempt)")
            let job = try start(example, np: 2, in: folder, log: "killed.log")
            guard let ranks = job.waitForRanks(2) else { return nil }
            while job.isRunning && (latestStep(example, in: folder) ?? -1) < step { usleep(1_000) }
            guard job.isRunning, let victim = ranks[Int.random(in: 0...1)], kill(victim, SIGKILL) == 0 else { return nil }
            let status = try TestSupport.finish(job, seconds: 60, what: "the killed \(example.name)").status
            return status != 0 ? folder : nil
        }
        let again = try run(example, np: 2, in: folder, log: "again.log")
        #expect(again.status == 0, "\(again.stdout)")
        #expect(again.stdout.contains("resuming from"), "\(again.stdout)")
        #expect(again.stdout.contains("\(example.name == "own-model" ? "highway" : example.name): resumed(fromStep: "),
                "fit() did not say it resumed: \(again.stdout)")
        #expect(try finalParameters(example, in: folder) == reference, "\(example.name): parameters differ after kill and rerun")
    }

    @Test("own-model (a user Module on Fashion-MNIST) trains alone and under mpirun -np 2 to over 80% test accuracy; fit() says it trained, and run again that there was nothing to do")
    func ownModelTrains() throws {
        for np in [1, 2] {
            let folder = scratch.appendingPathComponent("own-\(np)")
            let out = try run(Self.ownModel, np: np, in: folder)
            #expect(out.status == 0, "np=\(np): \(out.stdout)")
            #expect(out.stdout.contains("highway: trained(steps: 1874)"), "np=\(np): \(out.stdout)")
            let line = try #require(out.stdout.split(separator: "\n").last { $0.hasPrefix("highway: test accuracy") })
            let accuracy = try #require(Double(line.split(separator: " ")[3]))
            #expect(accuracy > 0.8, "np=\(np): \(line)")
            if np == 1 {
                let again = try run(Self.ownModel, np: 1, in: folder, log: "again.log")
                #expect(again.status == 0 && again.stdout.contains("highway: nothingToDo(reason: \"this run already reached its end"),
                        "\(again.stdout)")
            }
        }
    }

    @Test("A user's program under Trainer.main: an error it meets (only a damaged checkpoint in its directory) is one line naming it and exit 1, not a crash (SIGILL, 132)")
    func ownModelErrorIsOneLine() throws {
        let folder = scratch.appendingPathComponent("own-error")
        let directory = folder.appendingPathComponent(Self.ownModel.checkpoints)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("not a checkpoint".utf8).write(to: directory.appendingPathComponent("ckpt-00000100.h5"))
        let out = try run(Self.ownModel, np: 1, in: folder)
        let text = out.stdout + out.stderr
        #expect(out.status == 1, "exit \(out.status): \(text)")
        let errors = text.split(separator: "\n").filter { $0.hasPrefix("Error: no valid checkpoint in ") }
        #expect(errors.count == 1 && !text.contains("Fatal error"), "\(text)")
    }

    @Test("own-model: SIGKILL one rank of np=2 mid-run, run it again: bitwise the parameters of an uninterrupted run")
    func ownModelKilled() throws {
        try expectKillAndRerunIsExact(Self.ownModel, killAfter: 100 * Int.random(in: 2...8))
    }

    @Test("least-squares (a user regression Dataset, Linear, MSE) finds beta alone and under mpirun -np 2")
    func leastSquaresFitsBeta() throws {
        for np in [1, 2] {
            let out = try run(Self.leastSquares, np: np, in: scratch.appendingPathComponent("ls-\(np)"))
            #expect(out.status == 0, "np=\(np): \(out.stdout)")
            let beta = try finalParameters(Self.leastSquares, in: scratch.appendingPathComponent("ls-\(np)"))
            for (found, truth) in zip(beta.prefix(3), [Float(2), -3, 0.5]) {
                #expect(abs(found - truth) < 0.02, "np=\(np): beta \(beta.prefix(3))")
            }
        }
    }

    @Test("least-squares: SIGKILL one rank of np=2 mid-run, run it again: bitwise the parameters of an uninterrupted run")
    func leastSquaresKilled() throws {
        try expectKillAndRerunIsExact(Self.leastSquares, killAfter: 200 * Int.random(in: 1...6))
    }

    @Test("user-model: the user-shaped models of `trainer bench` (3x3 convolutions with padding, stride 2, a hand-written RNN, the GRU) train under --deterministic (without their BatchNorms) to bitwise the same parameters at np=1, 2 and 4",
          arguments: ["user-cnn", "user-cnn32", "user-strided", "user-rnn", "user-gru"])
    func userModelsAreDeterministic(model: String) throws {
        let example = Self.userModel(model, steps: 6)
        var reference: [Float]?
        for np in [1, 2, 4] {
            let folder = scratch.appendingPathComponent("\(model)-\(np)")
            let out = try run(example, np: np, in: folder)
            #expect(out.status == 0 && out.stdout.contains("\(model): trained(steps: 6)"), "np=\(np): \(out.stdout)")
            let parameters = try finalParameters(example, in: folder)
            #expect(parameters.allSatisfy { $0.isFinite })
            if let reference {
                // By construction: each micro-batch is the same kernel calls on the same shapes at every world size.
                #expect(parameters == reference, "\(model): np=\(np) differs from np=1")
            } else {
                reference = parameters
            }
        }
    }

    @Test("user-model: the AVX2 and scalar convolution kernels (CKERNELS_ISA) train user-strided (direct kernels: 3x3 at stride 1 and 2, padding 1) and user-cnn (Winograd for its 32-channel layers) as the default ones do",
          arguments: ["user-strided", "user-cnn"])
    func userModelKernelVariantsAgree(model: String) throws {
        /// The epoch line's train_loss and test_loss (over the 10,000 test images).
        func losses(isa: String?) throws -> [Double] {
            var example = Self.userModel(model, steps: 4)
            example.environment["CKERNELS_ISA"] = isa
            let out = try run(example, np: 1, in: scratch.appendingPathComponent("\(model)-\(isa ?? "default")"))
            #expect(out.status == 0 && out.stdout.contains("\(model): trained(steps: 4)"), "\(isa ?? "default"): \(out.stdout)")
            let line = try #require(out.stdout.split(separator: "\n").first { $0.hasPrefix("epoch 1/1:") })
            let words = line.split(separator: " ")
            return try ["train_loss", "test_loss"].map { key in
                let at = try #require(words.firstIndex { $0 == key }, "no \(key) in \(line)")
                return try #require(Double(words[at + 1]), "\(key) in \(line)")
            }
        }
        let reference = try losses(isa: nil)
        for isa in ["avx2", "scalar"] {
            // Only the rounding differs (fused multiply-adds or not), and the
            // figures are printed to four decimals.
            for (a, b) in zip(reference, try losses(isa: isa)) {
                #expect(abs(a - b) <= 1e-3 * max(1, abs(a)), "\(model) on \(isa): \(b), default kernels \(a)")
            }
        }
    }

    @Test("Examples/RecordFile: a Dataset of one's own that reads a file as batches need it trains bitwise the model its samples held in memory train, alone and at np=2")
    func recordFileTrainsAsInMemory() throws {
        var inMemory = Self.recordFile
        inMemory.arguments.append("--in-memory")
        for np in [1, 2] {
            let streamed = scratch.appendingPathComponent("records-\(np)"), held = scratch.appendingPathComponent("held-\(np)")
            let out = try run(Self.recordFile, np: np, in: streamed)
            #expect(out.status == 0 && out.stdout.contains("record-file: trained(steps: 30)"), "np=\(np): \(out.stdout)\(out.stderr)")
            let reference = try run(inMemory, np: np, in: held)
            try #require(reference.status == 0, "np=\(np): \(reference.stderr)")
            #expect(try finalParameters(Self.recordFile, in: streamed) == finalParameters(inMemory, in: held), "np=\(np)")
        }
    }

    @Test("The README's \"Your own data in Swift\" block is Examples/RecordFile/main.swift, the program the test above runs")
    func readmeShowsTheRecordFileExample() throws {
        let readme = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let begin = try #require(readme.range(of: "<!-- record-file begins -->\n```swift\n"))
        let end = try #require(readme.range(of: "```\n<!-- record-file ends -->", range: begin.upperBound..<readme.endIndex))
        let source = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("Examples/RecordFile/main.swift"),
                                encoding: .utf8)
        #expect(String(readme[begin.upperBound..<end.lowerBound]) == source)
    }

    @Test("The README's \"Your own model\" block is Examples/OwnModel/main.swift, the program these tests run")
    func readmeShowsTheExample() throws {
        let readme = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let begin = try #require(readme.range(of: "<!-- own-model begins -->\n```swift\n"))
        let end = try #require(readme.range(of: "```\n<!-- own-model ends -->", range: begin.upperBound..<readme.endIndex))
        let source = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("Examples/OwnModel/main.swift"),
                                encoding: .utf8)
        #expect(String(readme[begin.upperBound..<end.lowerBound]) == source)
    }
}
