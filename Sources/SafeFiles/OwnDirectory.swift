import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why `createDirectories(at:)` failed: the component of the path that
/// could not be a directory, and what it is or what the system said.
public struct DirectoryCreationError: Error, CustomStringConvertible {
    /// The directory asked for.
    public let path: String
    /// The prefix of `path` that failed (`path` itself when it is the last).
    public let component: String
    /// "is a regular file, not a directory", "Permission denied", ...
    public let problem: String
    /// Whether the failing component is the directory asked for itself.
    public let isLast: Bool

    /// The component and its problem in one phrase, e.g.
    /// `/data/x is a regular file, not a directory`.
    public var description: String { "\(component)\(problem.hasPrefix("is ") ? " " : ": ")\(problem)" }
}

/// `mkdir -p path`, the one way this program makes directories: each
/// missing component is created with mode 0755 (less the umask; a umask of
/// 002 still gives 0755, so `foreignDirectoryProblem(_:)` never refuses a
/// directory this program made), existing directories (or links to them)
/// are left as they are, and a component that is something else is named.
/// Returns the directories it created, outermost first, so that a run
/// refused before it wrote anything can remove them again.
@discardableResult
public func createDirectories(at path: String) throws(DirectoryCreationError) -> [String] {
    let components = path.split(separator: "/")
    var created: [String] = []
    var prefix = path.hasPrefix("/") ? "/" : ""
    for (index, component) in components.enumerated() {
        prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
        if mkdir(prefix, 0o755) == 0 {
            created.append(prefix)
            continue
        }
        let code = errno
        let isLast = index == components.count - 1
        if let problem = notADirectoryProblem(prefix) {
            throw DirectoryCreationError(path: path, component: prefix, problem: problem, isLast: isLast)
        }
        var info = stat()
        if code == EEXIST && stat(prefix, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { continue }
        throw DirectoryCreationError(path: path, component: prefix, problem: String(cString: strerror(code)), isLast: isLast)
    }
    return created
}

/// What `path` is when it exists but is not a directory (after links),
/// in words: "is a regular file, not a directory", "is a symbolic link
/// to T, which does not exist". Nil for a directory or nothing at all.
public func notADirectoryProblem(_ path: String) -> String? {
    var link = stat()
    guard lstat(path, &link) == 0 else { return nil }
    var target = stat()
    if stat(path, &target) != 0 {
        let destination = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
        return "is a symbolic link to \(destination), which does not exist"
    }
    switch target.st_mode & S_IFMT {
    case S_IFDIR: return nil
    case S_IFREG: return "is a regular file, not a directory"
    default: return "is a \(specialFileKind(path) ?? "special file"), not a directory"
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
