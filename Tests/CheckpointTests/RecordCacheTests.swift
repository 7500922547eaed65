import Foundation
import SafeFiles
import Testing

/// Results remembered under a key that names a file's identity (issue 21):
/// answered only for the very key, never for a changed file, and never an
/// error when the cache cannot be written.
@Suite struct RecordCacheTests {
    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "RecordCacheTests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func keepsAValueForItsKeyOnly() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = RecordCache(directory: directory + "/records")
        #expect(cache.value(for: "a") == nil)
        cache.store("sound", for: "a")
        cache.store("deadbeef", for: "b")
        #expect(cache.value(for: "a") == "sound" && cache.value(for: "b") == "deadbeef")
        cache.store("other", for: "a")
        #expect(cache.value(for: "a") == "other")
        // A record found under another key's hash does not answer for it.
        try FileManager.default.copyItem(atPath: directory + "/records/" + hashName("a"), toPath: directory + "/forged")
        try FileManager.default.moveItem(atPath: directory + "/forged", toPath: directory + "/records/" + hashName("c"))
        #expect(cache.value(for: "c") == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/records").allSatisfy { !$0.hasSuffix(".tmp") })
    }

    /// The file name `RecordCache` gives `key` (made by storing under it).
    private func hashName(_ key: String) throws -> String {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        RecordCache(directory: directory).store("x", for: key)
        return try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first)
    }

    @Test func aCacheThatCannotBeWrittenOnlyForgets() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("a file".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
        let cache = RecordCache(directory: directory + "/file/records")
        cache.store("sound", for: "a")
        #expect(cache.value(for: "a") == nil)
    }

    @Test func aFileWrittenAgainHasAnotherIdentity() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/data"
        try Data("one".utf8).write(to: URL(fileURLWithPath: path))
        let first = try #require(FileIdentity(path: path))
        #expect(FileIdentity(path: path) == first)
        #expect(FileIdentity(path: directory + "/./data") == first)
        // The same size and contents, written in place: the change time moves.
        usleep(10_000)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: Data("one".utf8))
        try handle.close()
        #expect(FileIdentity(path: path) != first)
        #expect(FileIdentity(path: directory + "/missing") == nil)
    }
}
