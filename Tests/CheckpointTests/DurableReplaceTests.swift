import Foundation
import HDF5
import SafeFiles
import Testing

struct DurableReplaceTests {
    @Test func replacesTheDestinationAndRemovesTheTemporaryName() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let destination = directory.appendingPathComponent("checkpoint.h5").path
        let temporary = directory.appendingPathComponent(".checkpoint.h5.tmp").path

        try writeSampleFile(at: destination)
        let file = try HDF5File.create(temporary)
        try file.setAttribute("step", Int64(2))
        try file.close()
        try durableReplace(temporary: temporary, destination: destination)

        #expect(!FileManager.default.fileExists(atPath: temporary))
        let replaced = try HDF5File.open(destination)
        #expect(try replaced.attribute("step", as: Int64.self) == 2)
        #expect(try replaced.children().isEmpty)
        try replaced.close()
    }

    @Test func missingTemporaryFileThrowsNamingIt() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let temporary = directory.appendingPathComponent("never-written.tmp").path
        let error = try #require(throws: FileSystemError.self) {
            try durableReplace(temporary: temporary, destination: directory.appendingPathComponent("out").path)
        }
        #expect(error.path == temporary && error.operation == "open")
        #expect(error.description.contains("No such file or directory"))
    }
}
