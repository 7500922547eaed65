import DataFiles
import DataLoading
import Foundation
import HDF5
import ModelZoo
import Testing
import TensorCore
import Training

/// `--data` files read on demand (`HDF5FileDataset`, issue 21) against the
/// in-memory read they replaced, kept here as the reference: the files in
/// Tests/Fixtures/stream-*.h5 were written by h5py (scripts/make-data-fixtures)
/// contiguous, chunked and gzip-compressed.
@Suite("--data streamed from the file")
struct StreamedDataFileTests {
    static let fixtures = TestSupport.fixtures
    static let files = ["stream-contiguous-uint8.h5", "stream-chunked-uint8.h5", "stream-gzip-uint8.h5",
                        "stream-gzip-float32.h5", "stream-contiguous-float32.h5", "stream-contiguous-float64.h5"]

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    let directory: URL

    init() throws { directory = try TestSupport.temporaryDirectory() }

    /// The path before issue 21: every dataset read whole into memory, and a
    /// file without `x_test` split into its first samples and its last
    /// `validationFraction`.
    static func reference(_ path: String, validationFraction: Double = 0.1) throws
        -> (train: TensorDataset, test: TensorDataset) {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        func part(_ x: String, _ y: String) throws -> (features: [Float], bytes: [UInt8]?, shape: [Int], labels: [Int32]?,
                                                       targets: [Float]?, targetShape: [Int]) {
            let shape = try file.datasetShape(x)
            var floats: [Float] = [], bytes: [UInt8]?
            switch try file.datasetElementType(x).type {
            case .uint8: bytes = try file.readDataset(x, as: UInt8.self).values
            case .float32: floats = try file.readDataset(x, as: Float.self).values
            default: floats = try file.readDataset(x, as: Double.self).values.map { Float($0) }
            }
            let yType = try file.datasetElementType(y)
            if yType.type == .float32 || yType.type == .float64 {
                let targets = yType.type == .float32 ? try file.readDataset(y, as: Float.self).values
                    : try file.readDataset(y, as: Double.self).values.map { Float($0) }
                return (floats, bytes, Array(shape.dropFirst()), nil, targets, [try file.datasetShape(y)[1]])
            }
            return (floats, bytes, Array(shape.dropFirst()), try file.readIntegerDataset(y).values.map { Int32($0) }, nil, [])
        }
        func dataset(_ p: (features: [Float], bytes: [UInt8]?, shape: [Int], labels: [Int32]?, targets: [Float]?, targetShape: [Int]),
                     rows: Range<Int>) -> TensorDataset {
            let size = p.shape.reduce(1, *), targetSize = p.targetShape.reduce(1, *)
            let features: TensorDataset.Features = p.bytes.map { .bytes(Array($0[rows.lowerBound * size..<rows.upperBound * size])) }
                ?? .floats(Array(p.features[rows.lowerBound * size..<rows.upperBound * size]))
            return TensorDataset(features: features, sampleShape: p.shape, labels: p.labels.map { Array($0[rows]) },
                                 targets: p.targets.map { Array($0[rows.lowerBound * targetSize..<rows.upperBound * targetSize]) },
                                 targetShape: p.targetShape)
        }
        let train = try part("x", "y")
        let n = try file.datasetShape("x")[0]
        if try file.exists("x_test") {
            let test = try part("x_test", "y_test")
            return (dataset(train, rows: 0..<n), dataset(test, rows: 0..<(try file.datasetShape("x_test")[0])))
        }
        let held = Int((Double(n) * validationFraction).rounded(.up))
        return (dataset(train, rows: 0..<n - held), dataset(train, rows: n - held..<n))
    }

    /// Every sample, label and target of `a` and `b`, bit for bit.
    static func expectSame(_ a: any Dataset, _ b: any Dataset, _ context: String) {
        #expect(a.count == b.count && a.sampleShape == b.sampleShape && a.targetShape == b.targetShape, "\(context)")
        guard a.count == b.count else { return }
        var ta = [Float](repeating: 0, count: max(a.targetSize, 1)), tb = ta
        var mismatches = 0
        for i in 0..<a.count {
            let (xa, la) = a[i], (xb, lb) = b[i]
            a.copyTarget(at: i, into: &ta)
            b.copyTarget(at: i, into: &tb)
            if xa.map(\.bitPattern) != xb.map(\.bitPattern) || la != lb || ta.map(\.bitPattern) != tb.map(\.bitPattern) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0, "\(context): \(mismatches) of \(a.count) samples differ")
        #expect(a.readFailure == nil && b.readFailure == nil, "\(context)")
    }

    @Test("contiguous, chunked and gzip files, uint8 / float32 / float64 x, labels and float targets: the same bits as the in-memory read",
          arguments: files)
    func sameSamples(_ name: String) throws {
        let path = Self.fixture(name)
        let splits = try HDF5DataFile.load(path)
        let reference = try Self.reference(path)
        Self.expectSame(splits.train, reference.train, "\(name) train")
        Self.expectSame(splits.test, reference.test, "\(name) test")
        #expect(splits.train is HDF5FileDataset && splits.test is HDF5FileDataset)
    }

    @Test("the storage each fixture was written with: contiguous ones are read with pread at an offset, the others through the library")
    func storage() throws {
        for name in Self.files {
            let file = try HDF5File.open(Self.fixture(name))
            let storage = try file.datasetStorage("x")
            try file.close()
            if name.contains("contiguous") {
                #expect(storage.contiguousOffset != nil && !storage.isChunked && storage.filterCount == 0, "\(name): \(storage)")
            } else {
                #expect(storage.contiguousOffset == nil && storage.isChunked, "\(name): \(storage)")
                #expect((storage.filterCount > 0) == name.contains("gzip"), "\(name): \(storage)")
            }
        }
    }

    @Test("a NaN written into the file after the start: the sample keeps it, and the data set names the file, the dataset and the sample")
    func nonFiniteAfterStart() throws {
        let path = directory.appendingPathComponent("float32.h5").path
        try FileManager.default.copyItem(atPath: Self.fixture("stream-contiguous-float32.h5"), toPath: path)
        let splits = try HDF5DataFile.load(path)
        let file = try HDF5File.open(path)
        let offset = try #require(try file.datasetStorage("x").contiguousOffset)
        try file.close()
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: UInt64(offset + (17 * 20 + 3) * 4))
        try handle.write(contentsOf: withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { Data($0) })
        try handle.close()
        #expect(splits.train[17].input[3].isNaN)
        let failure = try #require(splits.train.readFailure)
        #expect(failure.kind == .nonFiniteValue && failure.description.contains(path)
                && failure.description.contains("dataset 'x', sample 17 holds nan at feature 3"), "\(failure)")
    }

    @Test("labels kept a byte each until one passes 255, then four: every label reads back, in both halves of a split file")
    func wideLabels() throws {
        let path = directory.appendingPathComponent("labels.h5").path
        let f = try HDF5File.create(path)
        try f.writeDataset("x", shape: [400, 3], values: (0..<1200).map { Float($0) })
        try f.writeDataset("y", shape: [400], values: (0..<400).map { Int64(($0 * 7) % 400) })
        try f.close()
        let splits = try HDF5DataFile.load(path)
        #expect(splits.classes == 400)
        #expect((0..<360).map { splits.train[$0].label } == (0..<360).map { Int32(($0 * 7) % 400) })
        #expect((0..<40).map { splits.test[$0].label } == (360..<400).map { Int32(($0 * 7) % 400) })
    }

    /// The zoo model `trainer train --data` makes for `splits`.
    static func spec(_ splits: HDF5DataFile.Splits) -> ModelSpec {
        var spec = ModelSpec(name: "mlp", hidden: 16)
        if let classes = splits.classes {
            spec.classes = classes
        } else {
            spec.task = .regress
            spec.classes = splits.train.targetShape.reduce(1, *)
        }
        return spec
    }

    func options(deterministic: Bool) -> TrainingOptions {
        var options = TrainingOptions()
        options.batchSize = 16
        options.epochs = 2
        options.maxSteps = 25
        options.deterministic = deterministic
        // Two micro-batches, whoever computes them: the arithmetic of np=2, alone.
        if deterministic { options.microBatches = 2 }
        options.threads = 1
        options.checkpointDirectory = directory.appendingPathComponent("c-\(UUID().uuidString)").path
        return options
    }

    /// Parameters after training on `train` / `test` alone.
    func parameters(_ spec: ModelSpec, train: any Dataset, test: any Dataset, deterministic: Bool = false) throws -> [Float] {
        let trainer = try Trainer(zoo: spec, train: train, evaluation: test, options: options(deterministic: deterministic),
                                  datasetName: "reference", world: .alone, showProgress: false)
        try trainer.run()
        return Array(trainer.parameters.values.buffer)
    }

    @Test("25 steps of mlp, alone: bitwise the same parameters streamed as from the in-memory read",
          arguments: ["stream-contiguous-uint8.h5", "stream-gzip-uint8.h5", "stream-gzip-float32.h5", "stream-contiguous-float64.h5"])
    func sameTrainingAlone(_ name: String) throws {
        let path = Self.fixture(name)
        let splits = try HDF5DataFile.load(path)
        let reference = try Self.reference(path)
        let streamed = try parameters(Self.spec(splits), train: splits.train, test: splits.test)
        let inMemory = try parameters(Self.spec(splits), train: reference.train, test: reference.test)
        #expect(streamed.map(\.bitPattern) == inMemory.map(\.bitPattern), "\(name)")
    }

    @Test("25 deterministic steps at np=2 under mpirun, streamed: bitwise the in-memory reference's parameters",
          .enabled(if: TestSupport.mpirun != nil && TestSupport.trainerExecutable != nil, "needs mpirun and the built trainer"),
          arguments: ["stream-contiguous-uint8.h5", "stream-gzip-uint8.h5"])
    func sameTrainingTwoRanks(_ name: String) throws {
        let path = Self.fixture(name)
        let splits = try HDF5DataFile.load(path)
        let reference = try Self.reference(path)
        let inMemory = try parameters(Self.spec(splits), train: reference.train, test: reference.test, deterministic: true)
        let saved = directory.appendingPathComponent("np2.f32").path
        let out = try TestSupport.mpirun(np: 2, ["train", "--data", path, "--model", "mlp", "--hidden", "16", "--batch-size", "16",
                                                 "--epochs", "2", "--max-steps", "25", "--deterministic", "--micro-batches", "2", "--threads", "1", "--save-parameters", saved,
                                                 "--checkpoint-dir", directory.appendingPathComponent("np2").path])
        try #require(out.status == 0, "\(out.stdout)\(out.stderr)")
        let streamed = try TestSupport.floats(at: saved)
        #expect(streamed.map(\.bitPattern) == inMemory.map(\.bitPattern), "\(name)")
    }

    @Test("a file truncated after it was opened: the sample is NaN and the data set names the file, the dataset and the sample",
          arguments: ["stream-contiguous-uint8.h5", "stream-gzip-uint8.h5"])
    func truncatedInProcess(_ name: String) throws {
        let path = directory.appendingPathComponent(name).path
        try FileManager.default.copyItem(atPath: Self.fixture(name), toPath: path)
        let splits = try HDF5DataFile.load(path)
        _ = splits.train[0]
        #expect(splits.train.readFailure == nil)
        #expect(truncate(path, 3000) == 0)
        let (sample, _) = splits.train[299]
        #expect(sample.allSatisfy { $0.isNaN })
        let failure = try #require(splits.train.readFailure)
        #expect(failure.kind == .truncated, "\(failure)")
        #expect(failure.description.contains(path) && failure.description.contains("dataset 'x', sample 299"), "\(failure)")
        #expect(splits.test.readFailure == nil)  // each data set reports its own reads
    }

    @Test("a --data file truncated while the job trains: an error naming the file, the dataset and the sample, a non-zero exit, the last checkpoint intact",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func truncatedWhileTraining() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        let path = directory.appendingPathComponent("large.h5").path
        let n = 20_000
        var generator = RandomGenerator(seed: 5)
        let f = try HDF5File.create(path)
        try f.writeDataset("x", shape: [n, 784], values: (0..<n * 784).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        try f.writeDataset("y", shape: [n], values: (0..<n).map { Int64($0 % 10) })
        try f.close()
        let checkpoints = directory.appendingPathComponent("checkpoints").path
        let process = Process()
        process.executableURL = trainer
        process.arguments = ["train", "--data", path, "--model", "mlp", "--hidden", "16", "--epochs", "1000", "--checkpoint-every", "10",
                             "--threads", "1", "--checkpoint-dir", checkpoints]
        let stderr = directory.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let deadline = Date().addingTimeInterval(120)
        func saved() -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? []).contains { $0.hasSuffix(".h5") }
        }
        while !saved() && process.isRunning && Date() < deadline { usleep(50_000) }
        try #require(saved(), "no checkpoint was written: \((try? String(contentsOf: stderr, encoding: .utf8)) ?? "")")
        #expect(truncate(path, 2 << 20) == 0)  // keeps the header and the first ~2,600 samples
        while process.isRunning && Date() < deadline { usleep(50_000) }
        try #require(!process.isRunning, "the run went on after its --data file was truncated")
        let message = try String(contentsOf: stderr, encoding: .utf8)
        #expect(process.terminationReason == .exit && process.terminationStatus != 0, "\(process.terminationStatus): \(message)")
        #expect(message.contains(path) && message.contains("truncated") && message.contains("dataset 'x', sample "), "\(message)")
        #expect(!message.contains("diverged"), "\(message)")
        let inspect = try TestSupport.run(trainer, ["inspect", checkpoints])
        #expect(inspect.status == 0, "\(inspect.stdout)\(inspect.stderr)")
    }

    @Test("a shard deleted while the job trains: the run, which holds its files open, trains to the end with the parameters of an undisturbed run; the next start without it is refused naming the file, the last checkpoint intact",
          .enabled(if: TestSupport.trainerExecutable != nil, "needs the built trainer"))
    func shardDeletedWhileTraining() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        var generator = RandomGenerator(seed: 11)
        let shards = (0..<2).map { directory.appendingPathComponent("shard-\($0).h5").path }
        for path in shards {
            let f = try HDF5File.create(path)
            try f.writeDataset("x", shape: [600, 20], values: (0..<600 * 20).map { _ in generator.uniform(-1, 1) })
            try f.writeDataset("y", shape: [600], values: (0..<600).map { _ in Int64(generator.next() % 3) })
            try f.close()
        }
        func arguments(_ name: String) -> [String] {
            ["train", "--data"] + shards + ["--model", "mlp", "--hidden", "16", "--epochs", "300", "--max-steps", "4000", "--checkpoint-every", "20",
                                            "--threads", "1", "--checkpoint-dir", directory.appendingPathComponent(name).path,
                                            "--save-parameters", directory.appendingPathComponent(name + ".bin").path]
        }
        let undisturbed = try TestSupport.run(trainer, arguments("undisturbed"))
        try #require(undisturbed.status == 0, "\(undisturbed.stderr)")

        let checkpoints = directory.appendingPathComponent("disturbed").path
        let process = Process()
        process.executableURL = trainer
        process.arguments = arguments("disturbed")
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let deadline = Date().addingTimeInterval(120)
        func saved() -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? []).contains { $0.hasSuffix(".h5") }
        }
        while !saved() && process.isRunning && Date() < deadline { usleep(20_000) }
        let deletedWhileRunning = process.isRunning
        try FileManager.default.removeItem(atPath: shards[1])
        while process.isRunning && Date() < deadline { usleep(50_000) }
        try #require(!process.isRunning, "the run did not end")
        #expect(deletedWhileRunning, "the run ended before the shard was deleted: nothing was tested")
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        #expect(try TestSupport.floats(at: directory.appendingPathComponent("disturbed.bin").path)
                == TestSupport.floats(at: directory.appendingPathComponent("undisturbed.bin").path))

        let again = try TestSupport.run(trainer, arguments("disturbed"))
        #expect(again.status == TrainingError.permanentExitStatus && again.stderr.contains("--data: \(shards[1])"),
                "\(again.status): \(again.stderr)")
        let inspect = try TestSupport.run(trainer, ["inspect", checkpoints])
        #expect(inspect.status == 0, "\(inspect.stdout)\(inspect.stderr)")
    }
}
