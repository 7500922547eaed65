import Foundation
import SafeFiles

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one writer of a checkpoint directory: an advisory `flock` on the
/// directory itself, held for the whole run. The kernel releases it when the
/// process ends, even by SIGKILL, so a killed run never leaves a stale lock,
/// and no file is added to the directory. A second writer is told the
/// holder's pid, found in /proc/locks by the directory's inode.
public final class DirectoryLock {
    /// The locked directory.
    public let path: String
    private let descriptor: Int32

    /// Takes the lock of `directory` (which must exist), or throws naming the
    /// process that holds it.
    public init(directory: String) throws {
        path = directory
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CheckpointError.directory(path: directory, reason: "cannot open it to lock it: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = DirectoryLock.holder(of: fd).map { "pid \($0) on this host" } ?? "a process on this host"
            close(fd)
            throw CheckpointError.directory(path: directory, reason: "another trainer (\(holder)) is writing checkpoints here; "
                                            + "one run per --checkpoint-dir: wait for it, stop it, or choose another directory")
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// The pid /proc/locks gives for the FLOCK on the inode `fd` opens.
    private static func holder(of fd: Int32) -> Int? {
        var info = stat()
        guard fstat(fd, &info) == 0, let locks = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return nil }
        // "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF"
        for line in locks.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 6, fields[1] == "FLOCK", let inode = fields[5].split(separator: ":").last,
                  UInt64(inode) == UInt64(info.st_ino) else { continue }
            return Int(fields[4])
        }
        return nil
    }
}

extension CheckpointDirectory {
    /// Refuses a directory that another user owns or can write to
    /// (`foreignDirectoryProblem(_:)`), then creates, writes, fsyncs and
    /// removes a small file in it, so that a directory that cannot hold
    /// checkpoints (read-only, /proc, full) is found before training rather
    /// than at the first save.
    public func probeWritable() throws {
        if let problem = foreignDirectoryProblem(path) {
            throw CheckpointError.directory(path: path, reason: problem)
        }
        let probe = path(of: ".write-probe-\(getpid())")
        let fd: Int32
        do {
            fd = try createNewFile(at: probe, replacingStale: true)
        } catch let error as FileSystemError {
            throw CheckpointError.directory(path: path, reason: "cannot create a file in it: \(error)")
        }
        defer { unlink(probe) }
        let bytes = [UInt8](repeating: 0, count: 4096)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let error = written == bytes.count ? (fsync(fd) == 0 ? 0 : errno) : errno
        close(fd)
        guard written == bytes.count, error == 0 else {
            throw CheckpointError.directory(path: path, reason: "cannot write a file in it: \(String(cString: strerror(error == 0 ? EIO : error)))")
        }
        // The pointer is replaced by a rename at every save: a directory
        // there would fail the first save, minutes later.
        var info = stat()
        let latest = path(of: Self.latestFileName)
        if lstat(latest, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            throw CheckpointError.directory(path: path, reason: "'\(latest)' is a directory; the pointer to the newest "
                                            + "checkpoint must be a file (remove it)")
        }
    }
}
