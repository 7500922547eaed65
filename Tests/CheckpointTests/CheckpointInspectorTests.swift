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
}
