import Checkpoint
import Foundation
import HDF5
import Testing
import TensorCore

extension DataFileTests {
    /// Writes `x`, `y` and, if given, a test set into `path` (replacing it).
    func writeSplits(_ path: String, x: [Float], y: [Int64], test: (x: [Float], y: [Int64])?) throws {
        try? FileManager.default.removeItem(atPath: path)
        let f = try HDF5File.create(path)
        try f.writeDataset("x", shape: [y.count, 20], values: x)
        try f.writeDataset("y", shape: [y.count], values: y)
        if let test {
            try f.writeDataset("x_test", shape: [test.y.count, 20], values: test.x)
            try f.writeDataset("y_test", shape: [test.y.count], values: test.y)
        }
        try f.close()
    }

    @Test("Resuming on a file whose training samples changed where the old 64-sample fingerprint did not look, or whose test set changed, is refused, naming the set")
    func everySampleIsChecked() throws {
        let (x, y) = Self.blobs(300, seed: 5), test = Self.blobs(60, seed: 6)
        let trainer = try #require(TestSupport.trainerExecutable)
        // The samples the old fingerprint read: 64 spread evenly over the 300.
        let sampled = Set((0..<64).map { $0 * 299 / 63 })
        let changes: [(String, [Float], (x: [Float], y: [Int64]), String)] = [
            ("train", x.enumerated().map { sampled.contains($0.offset / 20) ? $0.element : $0.element + 1 }, test,
             "training set: its contents changed since the checkpoint"),
            ("test", x, (test.x.map { $0 * 2 }, test.y), "test set: its contents changed since the checkpoint"),
        ]
        for (name, newX, newTest, message) in changes {
            let path = directory.appendingPathComponent("changing-\(name).h5").path
            try writeSplits(path, x: x, y: y, test: test)
            let checkpoints = directory.appendingPathComponent("content-\(name)").path
            let common = ["train", "--data", path, "--batch-size", "10", "--checkpoint-dir", checkpoints, "--threads", "1"]
            let first = try TestSupport.run(trainer, common + ["--max-steps", "5"])
            try #require(first.status == 0, "\(first.stderr)")
            try writeSplits(path, x: newX, y: y, test: newTest)
            let again = try TestSupport.run(trainer, common + ["--max-steps", "10"])
            #expect(again.status != 0 && again.stderr.contains(message), "\(name): \(again.stderr)")
        }
    }

    @Test("A file changed in place, its size kept and its modification time set back, is read again and refused on resume: the remembered checksum is kept under the file's inode and change time too")
    func aRememberedChecksumIsNotFooledBySetBackTimes() throws {
        let (x, y) = Self.blobs(300, seed: 5), test = Self.blobs(60, seed: 6)
        let trainer = try #require(TestSupport.trainerExecutable)
        let path = directory.appendingPathComponent("in-place.h5").path
        try writeSplits(path, x: x, y: y, test: test)
        let checkpoints = directory.appendingPathComponent("in-place").path
        let common = ["train", "--data", path, "--batch-size", "10", "--checkpoint-dir", checkpoints, "--threads", "1"]
        let first = try TestSupport.run(trainer, common + ["--max-steps", "5"])
        try #require(first.status == 0, "\(first.stderr)")
        let offset = try #require(try HDF5File.open(path).datasetStorage("x").contiguousOffset)
        var before = stat()
        try #require(stat(path, &before) == 0)
        // Sample 123, feature 4, overwritten where it lies; then the old times put back.
        let descriptor = open(path, O_WRONLY)
        try #require(descriptor >= 0)
        var value: Float = 1234.5
        #expect(pwrite(descriptor, &value, 4, off_t(offset + (123 * 20 + 4) * 4)) == 4)
        var times = [before.st_atim, before.st_mtim]
        #expect(futimens(descriptor, &times) == 0)
        close(descriptor)
        var after = stat()
        #expect(stat(path, &after) == 0 && after.st_size == before.st_size && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec)
        let again = try TestSupport.run(trainer, common + ["--max-steps", "10"])
        #expect(again.status != 0 && again.stderr.contains("does not match this run: training set")
                && again.stderr.contains("checksum"), "\(again.stderr)")
    }

    @Test("A NaN or an infinity in x or x_test is refused before training, naming the file, the set, the sample and the value")
    func nonFiniteSamplesAreRefused() throws {
        let (x, y) = Self.blobs(300, seed: 7), test = Self.blobs(60, seed: 8)
        let trainer = try #require(TestSupport.trainerExecutable)
        var badTrain = x, badTest = test.x
        badTrain[17 * 20 + 3] = .nan
        badTest[41 * 20 + 5] = -.infinity
        for (name, trainX, testX, message) in [("train", badTrain, test.x, "sample 17 of the training set holds nan at feature 3"),
                                               ("test", x, badTest, "sample 41 of the test set holds -inf at feature 5")] {
            let path = directory.appendingPathComponent("nonfinite-\(name).h5").path
            try writeSplits(path, x: trainX, y: y, test: (testX, test.y))
            let out = try TestSupport.run(trainer, ["train", "--data", path, "--max-steps", "5", "--batch-size", "10",
                                                    "--checkpoint-dir", directory.appendingPathComponent("nf-\(name)").path])
            #expect(out.status != 0 && out.status != 132, "\(name): exit \(out.status)")
            #expect(out.stderr.contains(path) && out.stderr.contains(message), "\(name): \(out.stderr)")
        }
    }
}

extension DataFileTests {
    @Test("trainer eval of a checkpoint whose model does not fit the catalog's targets (it regresses, or has fewer classes than the labels) is an error naming --dataset, not a trap")
    func evalTargetsThatDoNotFit() throws {
        let trainer = try #require(TestSupport.trainerExecutable)
        guard TestSupport.hasFashionMNIST else { return }
        var generator = RandomGenerator(seed: 9)
        let n = 200
        let x = (0..<(n * 784)).map { _ in generator.uniform(0, 1) }
        let cases: [(String, (HDF5File) throws -> Void, String)] = [
            ("five-classes", { f in try f.writeDataset("y", shape: [n], values: (0..<n).map { Int64($0 % 5) }) },
             "but the checkpoint's model has 5 classes"),
            ("regress", { f in try f.writeDataset("y", shape: [n, 10], values: (0..<(n * 10)).map { Float($0 % 7) }) },
             "has class labels; the checkpoint's model regresses 10 float target(s)"),
        ]
        for (name, writeY, message) in cases {
            let path = try file("\(name).h5") { f in
                try f.writeDataset("x", shape: [n, 1, 28, 28], values: x)
                try writeY(f)
            }
            let checkpoints = directory.appendingPathComponent("eval-\(name)").path
            let first = try TestSupport.run(trainer, ["train", "--data", path, "--model", "mlp", "--hidden", "8", "--max-steps", "3",
                                                      "--batch-size", "20", "--checkpoint-dir", checkpoints, "--threads", "1"])
            try #require(first.status == 0, "\(name): \(first.stderr)")
            let newest = try #require(try CheckpointDirectory(checkpoints).checkpoints().last)
            let out = try TestSupport.run(trainer, ["eval", "--checkpoint", newest.path, "--dataset", "fashion-mnist"])
            #expect(out.status != 0 && out.status != 132, "\(name): exit \(out.status)")
            #expect(out.stderr.contains("--dataset") && out.stderr.contains(message), "\(name): \(out.stderr)")
        }
    }
}
