import Checkpoint
import Foundation
import SafeFiles
import Testing

struct CheckpointDirectoryTests {
    @Test func namesArePaddedAndParsedBack() {
        #expect(CheckpointDirectory.fileName(globalStep: 1200) == "ckpt-00001200.h5")
        #expect(CheckpointDirectory.fileName(globalStep: 0) == "ckpt-00000000.h5")
        #expect(CheckpointDirectory.fileName(globalStep: 123_456_789) == "ckpt-123456789.h5")
        #expect(CheckpointDirectory.globalStep(fromFileName: "ckpt-00001200.h5") == 1200)
        #expect(CheckpointDirectory.globalStep(fromFileName: "ckpt-123456789.h5") == 123_456_789)
        for name in ["ckpt-.h5", "ckpt-12.h5.tmp", ".ckpt-00000001.h5.tmp", "ckpt-1x.h5", "latest", "ckpt-１.h5"] {
            #expect(CheckpointDirectory.globalStep(fromFileName: name) == nil, "\(name)")
        }
    }

    @Test func saveWritesTheFileAndLatestAndKeepsTheNewestK() throws {
        let root = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoints = CheckpointDirectory(root.appendingPathComponent("run/checkpoints").path, keep: 2)
        try checkpoints.create()

        var saved: [SavedCheckpoint] = []
        for step in [100, 200, 300] {
            saved.append(try checkpoints.save(sampleState(step: step)))
        }
        let names = ["ckpt-00000100.h5", "ckpt-00000200.h5", "ckpt-00000300.h5"]
        #expect(saved.map(\.path) == names.map { checkpoints.path(of: $0) })
        #expect(saved[2].globalStep == 300 && saved[2].bytes > 0)
        #expect(saved[2].pruned == [checkpoints.path(of: "ckpt-00000100.h5")])
        #expect(try checkpoints.checkpoints().map(\.globalStep) == [200, 300])
        #expect(checkpoints.latest() == "ckpt-00000300.h5")
        #expect(try String(contentsOfFile: checkpoints.path(of: "latest"), encoding: .utf8) == "ckpt-00000300.h5\n")
        #expect(try checkpoints.temporaryFiles().isEmpty)
        #expect(try CheckpointFile.read(saved[2].path) == sampleState(step: 300))

        // Saving the same step again replaces it.
        try checkpoints.save(sampleState(step: 300))
        #expect(try checkpoints.checkpoints().map(\.globalStep) == [200, 300])
    }

    @Test func aFailedSavePrunesNothingAndLeavesLatestAlone() throws {
        let root = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoints = CheckpointDirectory(root.path, keep: 2)
        try checkpoints.save(sampleState(step: 1))
        try checkpoints.save(sampleState(step: 2))

        // A directory where the temporary file must go: it cannot be created.
        try FileManager.default.createDirectory(atPath: checkpoints.path(of: ".ckpt-00000003.h5.tmp"),
                                                withIntermediateDirectories: false)
        let error = try #require(throws: FileSystemError.self) { try checkpoints.save(sampleState(step: 3)) }
        #expect(error.code == EISDIR && error.path.hasSuffix(".ckpt-00000003.h5.tmp"), "\(error)")
        #expect(try checkpoints.checkpoints().map(\.globalStep) == [1, 2])
        #expect(checkpoints.latest() == "ckpt-00000002.h5")

        // A state that cannot be stored is refused before anything is touched.
        var broken = sampleState(step: 4)
        broken.optimizer.buffers["exp_avg"] = []
        #expect(throws: CheckpointError.self) { try checkpoints.save(broken) }
        #expect(try checkpoints.checkpoints().map(\.globalStep) == [1, 2])
        #expect(try checkpoints.temporaryFiles().isEmpty)
    }

    @Test func pruningLeavesCheckpointsOfLaterStepsAlone() throws {
        let root = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoints = CheckpointDirectory(root.path, keep: 1)
        try checkpoints.save(sampleState(step: 50))
        // A run that resumed from an earlier checkpoint saves below step 50.
        try FileManager.default.copyItem(atPath: checkpoints.path(of: "ckpt-00000050.h5"),
                                         toPath: checkpoints.path(of: "ckpt-00000010.h5"))
        try checkpoints.save(sampleState(step: 20))
        #expect(try checkpoints.checkpoints().map(\.globalStep) == [20, 50])
    }

    @Test func latestValidFallsBackPastCorruptCheckpointsAndSaysWhy() throws {
        let root = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoints = CheckpointDirectory(root.path, keep: 5)
        for step in [10, 20, 30, 40] {
            try checkpoints.save(sampleState(step: step))
        }
        let newest = checkpoints.path(of: "ckpt-00000040.h5")
        try corruptData(of: try #require(sampleState(step: 40).parameters["0.weight"]), inFileAt: newest)
        let truncated = checkpoints.path(of: "ckpt-00000030.h5")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: truncated)[.size] as? NSNumber)
        try truncateFile(at: truncated, to: size.intValue / 2)
        // Names that are not checkpoints, and a write that never finished.
        try Data("notes".utf8).write(to: root.appendingPathComponent("notes.txt"))
        try Data("partial".utf8).write(to: root.appendingPathComponent(".ckpt-00000050.h5.tmp"))

        let search = try CheckpointDirectory.latestValid(in: root.path)
        let found = try #require(search.checkpoint)
        #expect(found.path == checkpoints.path(of: "ckpt-00000020.h5"))
        #expect(found.state == sampleState(step: 20))
        #expect(search.skipped.map(\.path) == [newest, truncated])
        #expect(search.skipped[0].reason.contains("/model/0.weight") && search.skipped[0].reason.contains("corrupt"))
        #expect(search.skipped[1].reason.contains("cannot be read"))
        #expect(search.skipped[0].description.hasPrefix("skipped \(newest): "))
        #expect(search.temporaryFiles == [checkpoints.path(of: ".ckpt-00000050.h5.tmp")])

        try checkpoints.removeTemporaryFiles()
        #expect(try checkpoints.temporaryFiles().isEmpty)
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("notes.txt").path))
    }

    @Test func emptyOrMissingDirectoriesHaveNoCheckpoint() throws {
        let root = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let empty = try CheckpointDirectory(root.path).latestValid()
        #expect(empty.checkpoint == nil && empty.skipped.isEmpty && empty.temporaryFiles.isEmpty)
        let missing = try CheckpointDirectory.latestValid(in: root.appendingPathComponent("never/made").path)
        #expect(missing.checkpoint == nil && missing.skipped.isEmpty)
        #expect(CheckpointDirectory(root.path).latest() == nil)

        // Every checkpoint corrupt: none found, each one reported.
        let checkpoints = CheckpointDirectory(root.path)
        try checkpoints.save(sampleState(step: 7))
        try corruptData(of: try #require(sampleState(step: 7).parameters["0.bias"]),
                        inFileAt: checkpoints.path(of: "ckpt-00000007.h5"))
        let search = try checkpoints.latestValid()
        #expect(search.checkpoint == nil && search.skipped.count == 1)
    }
}
