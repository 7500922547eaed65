import Foundation
import SafeFiles

#if canImport(Glibc)
import Glibc
#endif

/// The files a run writes at its end or as it goes, checked when it starts:
/// a `--save-parameters` into a missing directory would otherwise fail only
/// after the whole run. Nothing is created here.
enum OutputPaths {
    /// Throws, naming the option, unless the files of `options` that this rank
    /// writes can be created: their directory exists, is a directory and is
    /// writable, and the path is not a directory. (`--metrics` and
    /// `--tensorboard` create their directories themselves.)
    static func check(_ options: TrainingOptions, rank: Int) throws {
        if rank == 0, let path = options.saveParametersPath {
            try requireCreatable(path, option: .saveParametersPath)
        }
        if let path = options.sampleLogPath {
            try requireCreatable("\(path).rank\(rank)", option: .sampleLogPath)
        }
    }

    /// Throws `invalidOption(option, ...)` saying why `path` cannot be created or replaced.
    static func requireCreatable(_ path: String, option: OptionKey) throws {
        func fail(_ what: String) -> TrainingError { .invalidOption(option, "\(path): \(what)") }
        if let kind = specialFileKind(path), kind == "directory" {
            throw fail("is a directory; give a file name")
        }
        let parent = (path as NSString).deletingLastPathComponent
        let directory = parent.isEmpty ? "." : parent
        var status = stat()
        guard stat(directory, &status) == 0 else {
            let why = errno == ENOENT ? "does not exist" : "cannot be reached (\(String(cString: strerror(errno))))"
            throw fail("its directory \(directory) \(why); create it first or choose another path")
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw fail("\(directory) is not a directory")
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw fail("its directory \(directory) is not writable (\(String(cString: strerror(errno)))); choose another path")
        }
    }
}
