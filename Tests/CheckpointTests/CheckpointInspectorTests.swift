import Checkpoint
import Foundation
import Testing

struct CheckpointInspectorTests {
    @Test func reportsMetadataTensorsChecksumsAndValidity() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ckpt-00001200.h5").path
        let state = sampleState()
        try CheckpointFile.write(state, to: path)

        let report = CheckpointInspector.report(path: path)
        let lines = report.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("checkpoint \(path) ("))
        #expect(lines[1] == "valid: yes (every required attribute present; metadata and 15 dataset checksums match)")
        let crc = String(CRC32.checksum(try #require(state.parameters["2.weight"])), radix: 16)
        for text in ["global_step     1200", "model_config    {\"classes\":10", "seed            18446744073709551609",
                     "rng_state       [0xffffffffffffffff, 0x0, 0x1,", "/model: 5 datasets",
                     "/optimizer: 10 datasets", "type          adam", "lr            0.001",
                     "2.weight   [3, 8]  crc32 0x", "\(crc) ok", "10.weight/exp_avg_sq  [2, 3]",
                     "note           β₁ — résumé ✓"] {
            #expect(report.contains(text), "report lacks '\(text)':\n\(report)")
        }
        #expect(!report.contains("MISMATCH"))
    }

    @Test func marksTheCorruptDatasetAndSaysWhyTheFileIsInvalid() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ckpt-00000001.h5").path
        try CheckpointFile.write(sampleState(), to: path)
        try corruptData(of: try #require(sampleState().optimizer.buffers["exp_avg"])[sampleLayout.range(of: 2)],
                        inFileAt: path)

        let report = CheckpointInspector.report(path: path)
        #expect(report.contains("valid: NO: checkpoint '\(path)': dataset '/optimizer/2.weight/exp_avg' is corrupt"))
        let flagged = report.split(separator: "\n").filter { $0.contains("MISMATCH") }
        #expect(flagged.count == 1 && flagged[0].contains("2.weight/exp_avg "))
        #expect(report.contains("global_step"))  // everything readable is still shown

        let missing = directory.appendingPathComponent("missing.h5").path
        let missingReport = CheckpointInspector.report(path: missing)
        #expect(missingReport.contains("valid: NO: checkpoint '\(missing)' cannot be read"))
    }

    @Test func listsBuffersAsBuffersAndTheSchedulerState() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ckpt-00001200.h5").path
        try CheckpointFile.write(sampleStateWithBuffers(), to: path)

        let report = CheckpointInspector.report(path: path)
        let lines = report.split(separator: "\n").map(String.init)
        #expect(lines[1] == "valid: yes (every required attribute present; metadata and 18 dataset checksums match)")
        #expect(lines.contains("/model: 8 datasets (5 parameters, 3 buffers)"), "\(report)")
        #expect(lines.contains { $0.contains("1.num_batches_tracked  []  crc32 0x") && $0.hasSuffix("ok  (buffer)") },
                "\(report)")
        #expect(lines.contains { $0.contains("1.running_var") && $0.hasSuffix("(buffer)") })
        #expect(!lines.contains { $0.contains("2.weight ") && $0.contains("(buffer)") })
        for text in ["/scheduler: learning-rate scheduler state", "  type         multistep",
                     "  _last_lr     [0.0001]", "  gamma        0.1", "  milestones   [400.0, 800.0]",
                     "  unused       []", "  last_epoch   1200.0"] {
            #expect(lines.contains(text), "report lacks '\(text)':\n\(report)")
        }
    }
}
