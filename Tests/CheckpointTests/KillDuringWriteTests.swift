import Checkpoint
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A process killed while writing a checkpoint leaves the previous one valid:
/// `checkpoint-writer-selftest loop` saves large checkpoints back to back,
/// and the test SIGKILLs it while a temporary file is being filled.
struct KillDuringWriteTests {
    /// Floats per buffer (parameters, exp_avg, exp_avg_sq): 3 x 8 MB files.
    static let values = 2_000_000

    @Test(.enabled(if: selftestExecutable() != nil, "checkpoint-writer-selftest is not built"))
    func sigkillDuringAWriteLeavesTheNewestCompleteCheckpointInUse() throws {
        let selftest = try #require(selftestExecutable())
        var midWriteKills = 0
        for attempt in 1...5 where midWriteKills == 0 {
            let root = try makeScratchDirectory()
            defer { try? FileManager.default.removeItem(at: root) }
            let checkpoints = CheckpointDirectory(root.path)
            guard let temporary = try killMidWrite(selftest, checkpoints) else { continue }
            if FileManager.default.fileExists(atPath: temporary) {
                midWriteKills += 1
            } else {
                // The write finished between the look and the kill; try again.
                continue
            }

            let killedStep = try #require(CheckpointDirectory.globalStep(fromFileName: String(
                URL(fileURLWithPath: temporary).lastPathComponent.dropFirst().dropLast(4))))
            let search = try checkpoints.latestValid()
            let found = try #require(search.checkpoint, "attempt \(attempt): no valid checkpoint")
            let complete = try checkpoints.checkpoints()
            // The newest complete file is used, nothing was skipped, and it
            // is older than the write that was cut short.
            #expect(found.path == complete.last?.path)
            #expect(search.skipped.isEmpty, "\(search.skipped)")
            #expect(found.state.globalStep == killedStep - 1)
            #expect(complete.map(\.globalStep).allSatisfy { $0 < killedStep })
            #expect(search.temporaryFiles == [temporary])
            // The previous save finished whole before this write began.
            #expect(checkpoints.latest() == CheckpointDirectory.fileName(globalStep: killedStep - 1))

            // Element for element what the child wrote for that step.
            let step = found.state.globalStep
            let values = found.state.parameters.values
            #expect(values.count == Self.values)
            #expect(values.indices.allSatisfy { values[$0] == Float(step) + Float($0 % 1024) / 1024 })
            #expect(found.state.optimizer.buffers["exp_avg"] == values.map { -$0 })
            #expect(found.state.optimizer.buffers["exp_avg_sq"] == values.map { $0 * 2 })

            try checkpoints.removeTemporaryFiles()
            #expect(!FileManager.default.fileExists(atPath: temporary))
            #expect(try checkpoints.latestValid().checkpoint?.path == found.path)
        }
        #expect(midWriteKills == 1, "never caught the child in the middle of a write")
    }

    /// Runs the selftest loop in `checkpoints` until at least two checkpoints
    /// are complete and a temporary file is being filled, SIGKILLs it, and
    /// returns that temporary file's path (nil if the child died first).
    private func killMidWrite(_ selftest: String, _ checkpoints: CheckpointDirectory) throws -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: selftest)
        process.arguments = ["loop", checkpoints.path, String(Self.values)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline {
            if try checkpoints.checkpoints().count >= 2,
               let temporary = try checkpoints.temporaryFiles().first(where: { $0.hasSuffix(".h5.tmp") }),
               fileSize(temporary) > 1_000_000 {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
                return temporary
            }
            usleep(200)
        }
        let status = process.isRunning ? "still running" : "exited with \(process.terminationStatus)"
        Issue.record("the selftest loop stalled or died before a mid-write kill: \(status)")
        return nil
    }
}

/// The size of the file at `path`, 0 if it is gone.
private func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

/// The built `checkpoint-writer-selftest`. SwiftPM puts every product of one
/// build in the same directory: on Linux the test binary itself sits there,
/// on macOS it is inside a bundle in that directory; so search upwards from
/// the running executable. `CHECKPOINT_WRITER_SELFTEST` overrides the search.
private func selftestExecutable() -> String? {
    if let path = ProcessInfo.processInfo.environment["CHECKPOINT_WRITER_SELFTEST"] {
        return path
    }
    let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    var directory = executable.resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("checkpoint-writer-selftest").path
        if FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        directory = directory.deletingLastPathComponent()
    }
    return nil
}
