import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Creates the directory at `path` with mode 0755 (less the umask), and its
/// missing parents as `FileManager` does; an existing directory is left as it
/// is. The last component gets an explicit 0755 so that a umask of 002
/// (usual for users with their own group) does not give the trainer a
/// group-writable directory that `foreignDirectoryProblem(_:)` would refuse.
public func createOwnDirectory(at path: String) throws {
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty && !FileManager.default.fileExists(atPath: parent) {
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    }
    if mkdir(path, 0o755) != 0 {
        let code = errno
        var info = stat()
        guard code == EEXIST, stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw FileSystemError(path: path, operation: "create directory", code: code)
        }
    }
}

/// Why the existing directory at `path` must not receive this process's
/// files, or nil when it may.
///
/// A directory owned by another user, or one that others can write to
/// without the sticky bit, lets them rename or replace the files written
/// there (and plant links at their names), so a trainer that adopts it
/// silently writes where others decide. Refused rather than adopted: the
/// user can choose another directory. A missing directory is no problem.
public func foreignDirectoryProblem(_ path: String) -> String? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    let user = geteuid()
    if info.st_uid != user {
        return "it is owned by uid \(info.st_uid), not by this process's uid \(user); "
            + "another user controls what is written there (choose a directory of your own)"
    }
    let othersWrite = info.st_mode & (S_IWGRP | S_IWOTH)
    if othersWrite != 0 && info.st_mode & S_ISVTX == 0 {
        let mode = String(info.st_mode & 0o7777, radix: 8)
        return "it is writable by \(info.st_mode & S_IWOTH != 0 ? "every user" : "its group") (mode \(mode)) "
            + "without the sticky bit, so others can replace the files written there "
            + "(chmod go-w it, or choose another directory)"
    }
    return nil
}
