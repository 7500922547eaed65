import Checkpoint
import Foundation
import SafeFiles
import Synchronization
import Testing

/// A gate a background write blocks on until the test opens it.
private final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func wait() { semaphore.wait() }
    func open() { semaphore.signal() }
}

/// What the fake writes saw: steps in the order they started and ended, and
/// the most writes ever under way at once.
private final class Journal: Sendable {
    private let state = Mutex((events: [String](), running: 0, mostRunning: 0))

    func start(_ step: Int) {
        state.withLock {
            $0.events.append("start \(step)")
            $0.running += 1
            $0.mostRunning = max($0.mostRunning, $0.running)
        }
    }

    func end(_ step: Int) {
        state.withLock {
            $0.events.append("end \(step)")
            $0.running -= 1
        }
    }

    var events: [String] { state.withLock { $0.events } }
    var mostRunning: Int { state.withLock { $0.mostRunning } }
}

private struct InjectedFailure: Error, Equatable {
    let step: Int
}

/// A `SavedCheckpoint` for a fake write of `step`.
private func fakeSaved(_ step: Int) -> SavedCheckpoint {
    SavedCheckpoint(path: "fake-\(step)", globalStep: step, bytes: 0, seconds: 0, pruned: [])
}

struct CheckpointWriterTests {
    @Test func saveReturnsWhileTheWriteIsStillUnderWay() throws {
        let gate = Gate()
        let writer = CheckpointWriter { state, _ in
            gate.wait()
            return fakeSaved(state.globalStep)
        }
        try writer.save(sampleState(step: 1))  // returns although the write is blocked
        #expect(writer.isWriting)
        #expect(writer.lastSaved == nil)
        gate.open()
        #expect(try writer.waitUntilIdle() == fakeSaved(1))
        #expect(!writer.isWriting && writer.lastSaved == fakeSaved(1))
    }

    @Test func aSaveDuringAWriteReturnsAtOnceAndEverySavedStepIsWrittenInOrder() throws {
        let journal = Journal()
        let writer = CheckpointWriter { state, _ in
            journal.start(state.globalStep)
            Thread.sleep(forTimeInterval: 0.02)
            journal.end(state.globalStep)
            return fakeSaved(state.globalStep)
        }
        try writer.save(sampleState(step: 1))
        while !journal.events.contains("start 1") { Thread.sleep(forTimeInterval: 0.001) }
        let begin = Date()
        try writer.save(sampleState(step: 2))
        #expect(Date().timeIntervalSince(begin) < 0.015, "save waited for the write in flight")
        for step in 3...4 {
            try writer.save(sampleState(step: step))  // waits until the waiting state is taken
        }
        #expect(try writer.waitUntilIdle() == fakeSaved(4))
        #expect(journal.events == ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3", "start 4", "end 4"])
        #expect(journal.mostRunning == 1)
    }

    @Test func aFailedWriteIsReportedByTheNextSaveOrByWaitOnce() throws {
        let writer = CheckpointWriter { state, _ in
            if state.globalStep.isMultiple(of: 2) { throw InjectedFailure(step: state.globalStep) }
            return fakeSaved(state.globalStep)
        }
        try writer.save(sampleState(step: 2))
        #expect(throws: InjectedFailure(step: 2)) { try writer.waitUntilIdle() }
        #expect(try writer.waitUntilIdle() == nil)  // reported once

        try writer.save(sampleState(step: 4))
        while writer.isWriting { Thread.sleep(forTimeInterval: 0.001) }  // the write of 4 has failed
        #expect(throws: InjectedFailure(step: 4)) { try writer.save(sampleState(step: 5)) }
        try writer.save(sampleState(step: 5))  // the refused save can be retried
        #expect(try writer.waitUntilIdle() == fakeSaved(5))
    }

    @Test("One state to best.h5 and then to the rolling checkpoint, in that order; a failure on the first skips the second; waitUntilIdle returns the rolling one")
    func oneStateToSeveralFiles() throws {
        let journal = Journal()
        let writer = CheckpointWriter { state, destination in
            if case .named = destination, state.globalStep == 3 { throw InjectedFailure(step: 3) }
            journal.start(destination == .rolling ? state.globalStep : -state.globalStep)  // a named file logs -step
            journal.end(destination == .rolling ? state.globalStep : -state.globalStep)
            return fakeSaved(destination == .rolling ? state.globalStep : -state.globalStep)
        }
        try writer.save(sampleState(step: 2), to: [.named("best.h5"), .rolling])
        #expect(try writer.waitUntilIdle() == fakeSaved(2))
        try writer.save(sampleState(step: 3), to: [.named("best.h5"), .rolling])
        #expect(throws: InjectedFailure(step: 3)) { try writer.waitUntilIdle() }
        try writer.save(sampleState(step: 4), to: [.named("best.h5")])
        #expect(try writer.waitUntilIdle() == fakeSaved(2), "a named file is not the newest rolling checkpoint")
        #expect(journal.events == ["start -2", "end -2", "start 2", "end 2", "start -4", "end -4"])
    }

    @Test("A named file is written atomically beside the checkpoints: never pruned, never named by latest")
    func namedFileBesideTheRotation() throws {
        let root = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoints = CheckpointDirectory(root.appendingPathComponent("ckpt").path, keep: 1)
        try checkpoints.create()
        let writer = CheckpointWriter(directory: checkpoints)
        try writer.save(sampleState(step: 10), to: [.named("best.h5"), .rolling])
        try writer.save(sampleState(step: 20))
        try writer.waitUntilIdle()
        #expect(try CheckpointFile.read(checkpoints.path(of: "best.h5")) == sampleState(step: 10))
        #expect(try checkpoints.checkpoints().map(\.globalStep) == [20])
        #expect(checkpoints.latest() == "ckpt-00000020.h5")
        #expect(try checkpoints.temporaryFiles().isEmpty)
    }

    @Test func writesRealCheckpointsAndReportsARemovedDirectory() throws {
        let root = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoints = CheckpointDirectory(root.appendingPathComponent("ckpt").path, keep: 2)
        try checkpoints.create()
        let writer = CheckpointWriter(directory: checkpoints)
        for step in [10, 20, 30] {
            try writer.save(sampleState(step: step))
            try writer.waitUntilIdle()  // each written, so keep-2 pruning is visible
        }
        let saved = try #require(try writer.waitUntilIdle())
        #expect(saved.path == checkpoints.path(of: "ckpt-00000030.h5") && saved.bytes > 0)
        #expect(try checkpoints.checkpoints().map(\.globalStep) == [20, 30])
        #expect(try checkpoints.latestValid().checkpoint?.state == sampleState(step: 30))

        try FileManager.default.removeItem(atPath: checkpoints.path)
        try writer.save(sampleState(step: 40))  // fails in the background
        let error = try #require(throws: FileSystemError.self) { try writer.waitUntilIdle() }
        #expect(error.description.contains(checkpoints.path))
    }
}
