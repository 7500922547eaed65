import Checkpoint
import HDF5
import PlantedLinks
import Foundation
import SafeFiles
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Writers never follow a link planted at the name they are about to write")
struct NoFollowTests {
    @Test("A link at the checkpoint's temporary name (and at `latest`'s) is replaced, not written through",
          arguments: PlantedLink.allCases)
    func checkpointTemporary(kind: PlantedLink) throws {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let victim = try Victim(in: scratch)
        let directory = CheckpointDirectory(scratch.appendingPathComponent("ckpt").path)
        try directory.create()
        try victim.plant(kind, at: directory.path(of: ".ckpt-00000010.h5.tmp"))
        try victim.plant(kind, at: directory.path(of: ".latest.tmp"))

        let saved = try directory.save(sampleState(step: 10))

        #expect(victim.isUnchanged)
        #expect(isOwnRegularFile(saved.path))
        #expect(isOwnRegularFile(directory.path(of: "latest")))
        #expect(try CheckpointFile.read(saved.path).globalStep == 10)
        #expect(directory.latest() == "ckpt-00000010.h5")
    }

    @Test("A link to a directory, named like a leftover temporary, is removed without touching the directory")
    func leftoverTemporaryLinkToDirectory() throws {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let victims = scratch.appendingPathComponent("victims").path
        try FileManager.default.createDirectory(atPath: victims, withIntermediateDirectories: false)
        let victim = (victims as NSString).appendingPathComponent("keep")
        try Data(Victim.contents.utf8).write(to: URL(fileURLWithPath: victim))
        let directory = CheckpointDirectory(scratch.appendingPathComponent("ckpt").path)
        try directory.create()
        let planted = directory.path(of: ".ckpt-00000009.h5.tmp")
        try FileManager.default.createSymbolicLink(atPath: planted, withDestinationPath: victims)

        try directory.save(sampleState(step: 10))

        #expect(try String(contentsOfFile: victim, encoding: .utf8) == Victim.contents)
        var info = stat()
        #expect(lstat(planted, &info) != 0, "the leftover name is removed")
    }

    @Test("A link at the write probe's name is removed, not written through", arguments: PlantedLink.allCases)
    func writeProbe(kind: PlantedLink) throws {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let victim = try Victim(in: scratch)
        let directory = CheckpointDirectory(scratch.appendingPathComponent("ckpt").path)
        try directory.create()
        let probe = directory.path(of: ".write-probe-\(getpid())")
        try victim.plant(kind, at: probe)

        try directory.probeWritable()

        #expect(victim.isUnchanged)
        var info = stat()
        #expect(lstat(probe, &info) != 0, "the probe is removed")
    }

    @Test("HDF5File.create replaces a link at its path with a new file", arguments: PlantedLink.allCases)
    func hdf5Create(kind: PlantedLink) throws {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let victim = try Victim(in: scratch)
        let path = scratch.appendingPathComponent("out.h5").path
        try victim.plant(kind, at: path)

        let file = try HDF5File.create(path)
        try file.setAttribute("step", Int64(3))
        try file.close()

        #expect(victim.isUnchanged)
        #expect(isOwnRegularFile(path))
        #expect(try HDF5File.open(path).attribute("step", as: Int64.self) == 3)
    }

    @Test("writeFile replaces a link at its path with a new file", arguments: PlantedLink.allCases)
    func plainWrite(kind: PlantedLink) throws {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let victim = try Victim(in: scratch)
        let path = scratch.appendingPathComponent(".out.tmp").path
        try victim.plant(kind, at: path)

        try writeFile(Array("ours\n".utf8), to: path)

        #expect(victim.isUnchanged)
        #expect(isOwnRegularFile(path))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "ours\n")
    }

    @Test("A checkpoint directory owned by another user is refused, naming it and the owner",
          .enabled(if: geteuid() == 0, "needs root to chown"))
    func directoryOfAnotherUser() throws {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let directory = CheckpointDirectory(scratch.appendingPathComponent("theirs").path)
        try directory.create()
        #expect(chown(directory.path, 12345, 12345) == 0)

        let error = try #require(throws: CheckpointError.self) { try directory.probeWritable() }
        #expect(error.description.contains(directory.path) && error.description.contains("owned by uid 12345"), "\(error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "nothing written there")
    }

    @Test("A checkpoint directory others can write to is refused unless it has the sticky bit")
    func writableByOthers() throws {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let directory = CheckpointDirectory(scratch.appendingPathComponent("open").path)
        try directory.create()
        #expect(chmod(directory.path, 0o777) == 0)
        let error = try #require(throws: CheckpointError.self) { try directory.probeWritable() }
        #expect(error.description.contains(directory.path) && error.description.contains("sticky"), "\(error)")

        #expect(chmod(directory.path, 0o1777) == 0)
        try directory.probeWritable()
    }
}
