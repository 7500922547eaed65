#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way this project opens a file for writing: every writer (the
/// checkpoint and best-model temporaries, `latest`, the write probe,
/// TensorBoard's files, the metrics and sample logs, `--save-parameters`)
/// comes through here.
///
/// Why: a directory that others can write to (a shared run directory) lets
/// them plant a symbolic or hard link at a name the writer will use next,
/// such as `.ckpt-00000010.h5.tmp`. `open(O_CREAT | O_TRUNC)` follows the
/// link and truncates its target, and the rename then leaves the final name
/// pointing at it: a trainer running as root overwrote a root-owned 0600
/// file that way. `O_CREAT | O_EXCL` refuses any existing name, a dangling
/// symbolic link included, so a new file is always a new inode of our own;
/// `O_NOFOLLOW` says the same for the final component where a file must be
/// appended to.

/// Creates `path` as a new, empty file (mode `mode`, less the umask) and
/// returns a descriptor open for writing; never through a link, never an
/// existing file.
///
/// With `replacingStale`, a name that is already there (our own temporary
/// left by a killed run, or something planted) is first unlinked: `unlink`
/// removes a link itself, never its target. If the name reappears between
/// the unlink and the create, the create fails and this throws, naming the
/// path; it never falls back to opening what is there.
public func createNewFile(at path: String, mode: mode_t = 0o644, replacingStale: Bool) throws -> Int32 {
    if replacingStale && unlink(path) != 0 && errno != ENOENT {
        throw FileSystemError(path: path, operation: "remove the stale file before creating", code: errno)
    }
    return try openOrThrow(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode, operation: "create",
                           refusal: (EEXIST, "something else put a file or link of that name there"))
}

/// Opens `path` for appending, creating it if it is missing: a log that a
/// resumed run continues (`--metrics`, `--record-samples`).
///
/// An existing file is appended to only if it is a regular file with one
/// name: a symbolic link at `path` fails the open (`O_NOFOLLOW`), and a
/// hard link (more than one name) is refused, naming the path, since
/// appending would write into whatever other file it shares its inode with.
public func openForAppending(at path: String, mode: mode_t = 0o644) throws -> Int32 {
    let descriptor = try openOrThrow(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode,
                                     operation: "open for appending", refusal: (ELOOP, "it is a symbolic link"))
    var info = stat()
    guard fstat(descriptor, &info) == 0 else {
        let code = errno
        _ = close(descriptor)
        throw FileSystemError(path: path, operation: "stat", code: code)
    }
    guard (info.st_mode & S_IFMT) == S_IFREG, info.st_nlink == 1 else {
        _ = close(descriptor)
        let what = (info.st_mode & S_IFMT) == S_IFREG ? "it has \(info.st_nlink) hard links" : "it is not a regular file"
        throw FileSystemError(path: path, operation: "open for appending (\(what); not writing through it)", code: EPERM)
    }
    return descriptor
}

/// `open(2)`, or a `FileSystemError` naming `operation`; when it fails with
/// `refusal`'s code (the guard against a planted link firing), the error
/// says why and that nothing was written through it.
private func openOrThrow(_ path: String, _ flags: Int32, _ mode: mode_t, operation: String,
                         refusal: (code: Int32, why: String)) throws -> Int32 {
    let descriptor = open(path, flags, mode)
    guard descriptor >= 0 else {
        let code = errno
        throw FileSystemError(path: path, operation: code == refusal.code ? "\(operation) (\(refusal.why); not writing through it)"
                                                                          : operation, code: code)
    }
    return descriptor
}
