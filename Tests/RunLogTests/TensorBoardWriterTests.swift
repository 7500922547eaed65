import Foundation
import Testing
import RunLog

/// `--tensorboard DIR`: new files per process, and resumes that chart each step once.
struct TensorBoardWriterTests {
    /// The scalar events of `directory`, as (step, tag, value), in TensorBoard's reading order.
    private func points(_ directory: String) throws -> [(step: Int, tag: String, value: Float)] {
        try TensorBoardEventFile.readDirectory(directory).flatMap { event in
            event.scalars.map { (event.step, $0.tag, $0.value) }
        }
    }

    /// Writes "train/loss" = 1/step for each step, flushed as at an epoch end.
    private func writeLoss(_ writer: TensorBoardWriter, steps: ClosedRange<Int>) throws {
        for step in steps {
            try writer.addScalar("train/loss", 1 / Double(step), step: step, wallTime: 1_000 + Double(step))
        }
        try writer.flush()
    }

    /// Appends the first `count` bytes of a record for `step`: what a SIGKILL mid-write leaves.
    private func appendPartialRecord(to path: String, step: Int, count: Int) throws {
        let event = TensorBoardEvent(wallTime: 2_000, step: step, scalars: [TensorBoardScalar(tag: "train/loss", value: 9)])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(TensorBoardEventFile.frame(event.encoded()).prefix(count)))
        try handle.close()
    }

    @Test func aNewFileIsNamedAsTensorFlowNamesItAndStartsWithTheFileVersion() throws {
        let directory = try TestSupport.temporaryDirectory().appendingPathComponent("tb/run").path
        let writer = try TensorBoardWriter(directory: directory, hostname: "node7", wallTime: 1_796_000_000.75)
        try writeLoss(writer, steps: 1...2)
        try writer.close()
        let name = URL(fileURLWithPath: writer.path).lastPathComponent
        let parts = name.split(separator: ".")
        #expect(name.hasPrefix("events.out.tfevents.1796000000.node7.\(ProcessInfo.processInfo.processIdentifier)."))
        #expect(parts.count == 7 && Int(parts[6]) != nil)
        #expect(try TensorBoardEventFile.files(in: directory) == [writer.path])
        let events = try TensorBoardEventFile.read(writer.path)
        #expect(events.first == TensorBoardEvent(wallTime: 1_796_000_000.75, step: 0, fileVersion: "brain.Event:2",
                                                 writer: TensorBoardWriter.writerName))
        #expect(events.dropFirst().map { $0.step } == [1, 2])
        #expect(events[1].scalars == [TensorBoardScalar(tag: "train/loss", value: 1)])
        #expect(events[1].wallTime == 1_001)
        #expect(throws: TensorBoardError.writerClosed(path: writer.path)) {
            try writer.addScalar("train/loss", 1, step: 3)
        }
        try writer.close()  // a second close does nothing
    }

    @Test func scalarsOfOneStepCanShareAnEvent() throws {
        let directory = try TestSupport.temporaryDirectory().path
        let writer = try TensorBoardWriter(directory: directory)
        try writer.addScalars([("train/loss", 0.5), ("train/accuracy", 0.875)], step: 4)
        try writer.close()
        #expect(try points(directory).map { "\($0.step) \($0.tag) \($0.value)" }
                    == ["4 train/loss 0.5", "4 train/accuracy 0.875"])
    }

    @Test func resumingDropsTheStepsAfterTheCheckpointSoEachStepIsChartedOnce() throws {
        let directory = try TestSupport.temporaryDirectory().path
        let killed = try TensorBoardWriter(directory: directory, hostname: "host", wallTime: 1_796_000_000)
        try writeLoss(killed, steps: 1...10)
        try appendPartialRecord(to: killed.path, step: 11, count: 20)
        // The killed process never closes its file; the resumed one starts from the checkpoint
        // of step 6, on a clock a little behind, and writes steps 7 and 8 again.
        let resumed = try TensorBoardWriter(directory: directory, resumingAfterStep: 6, hostname: "host",
                                            wallTime: 1_795_999_990)
        try writeLoss(resumed, steps: 7...8)
        try resumed.close()

        #expect(try points(directory).map { $0.step } == Array(1...8))
        #expect(try points(directory).map { $0.value } == (1...8).map { 1 / Float($0) })
        // The resumed run's file sorts after the killed run's, so TensorBoard reads it last.
        #expect(try TensorBoardEventFile.files(in: directory) == [killed.path, resumed.path])
        #expect(resumed.resumeRepairs.count == 1)
        #expect(resumed.resumeRepairs.first?.contains("dropped 4 record(s) after step 6") == true)
        #expect(try TensorBoardEventFile.scan(killed.path).damage == nil)
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == 2)

        // A second kill and resume at a step before the first resume trims both files.
        let again = try TensorBoardWriter(directory: directory, resumingAfterStep: 3, hostname: "host")
        try writeLoss(again, steps: 4...5)
        try again.close()
        #expect(try points(directory).map { $0.step } == Array(1...5))
        #expect(try TensorBoardEventFile.files(in: directory) == [killed.path, again.path])
        #expect(again.resumeRepairs.contains { $0.contains("removed") })
    }

    @Test func resumingCutsATruncatedTailEvenWhenNoStepIsLater() throws {
        let directory = try TestSupport.temporaryDirectory().path
        let killed = try TensorBoardWriter(directory: directory)
        try writeLoss(killed, steps: 1...6)
        try appendPartialRecord(to: killed.path, step: 7, count: 30)
        #expect(try TensorBoardEventFile.read(killed.path).compactMap { $0.scalars.isEmpty ? nil : $0.step } == Array(1...6))

        let resumed = try TensorBoardWriter(directory: directory, resumingAfterStep: 6)
        try resumed.close()
        #expect(try TensorBoardEventFile.scan(killed.path).damage == nil)
        #expect(try points(directory).map { $0.step } == Array(1...6))
        #expect(resumed.resumeRepairs.count == 1)
    }

    @Test func aFreshRunAddsItsFileAndTouchesNoOther() throws {
        let directory = try TestSupport.temporaryDirectory().path
        let first = try TensorBoardWriter(directory: directory)
        try writeLoss(first, steps: 1...4)
        try first.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: first.path))

        let second = try TensorBoardWriter(directory: directory)
        try writeLoss(second, steps: 1...2)
        try second.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: first.path)) == before)
        #expect(try TensorBoardEventFile.files(in: directory) == [first.path, second.path])
        #expect(second.resumeRepairs.isEmpty)
    }

    @Test func resumingLeavesOtherWritersFilesAlone() throws {
        let directory = try TestSupport.temporaryDirectory().path
        // Another program's file: a file_version record without our writer mark.
        let foreign = URL(fileURLWithPath: directory).appendingPathComponent("events.out.tfevents.100.other.1.v2").path
        let records = [TensorBoardEvent(wallTime: 100, step: 0, fileVersion: "brain.Event:2"),
                       TensorBoardEvent(wallTime: 101, step: 50, scalars: [TensorBoardScalar(tag: "x", value: 1)])]
        let bytes = Data(records.flatMap { TensorBoardEventFile.frame($0.encoded()) })
        try bytes.write(to: URL(fileURLWithPath: foreign))

        let writer = try TensorBoardWriter(directory: directory, resumingAfterStep: 6)
        try writer.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: foreign)) == bytes)
        #expect(writer.resumeRepairs.isEmpty)
    }

    @Test func anUnusableDirectoryIsAClearError() throws {
        let file = try TestSupport.temporaryDirectory().appendingPathComponent("not-a-directory")
        try Data("x".utf8).write(to: file)
        let error = #expect(throws: TensorBoardError.self) {
            _ = try TensorBoardWriter(directory: file.path)
        }
        #expect(error?.description.contains(file.path) == true)
        #expect(error?.description.contains("--tensorboard") == true)
    }
}
