// Fuzz targets for the readers users feed files to (issue 12).
//
//   fuzz-readers TARGET PATH...
//       Replays files through TARGET (idx, cifar10, checkpoint, datafile; see
//       FuzzTarget), a directory standing for every file in it, and prints one
//       line per file. Exits 1 if a refusal does not name its file; a trap or
//       a crash ends the process as it would end the trainer. The test suite
//       runs it over Tests/FuzzCorpus, so every seed and every crash found
//       stays covered.
//
//   Built with -DFUZZING -sanitize=fuzzer,address (`./launch fuzz TARGET
//   SECONDS` does it), the same program is a libFuzzer binary: the
//   environment variable SDDP_FUZZ_TARGET names the target, the arguments are
//   libFuzzer's, and each input is written to one scratch file per process
//   (in /dev/shm when there is one), which the reader opens by path like any
//   other file.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if FUZZING
import CLibFuzzer
import SafeFiles
#endif

/// Writes one line to standard error.
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// Writes one line to standard error and exits with status 2.
func fail(_ message: String) -> Never {
    printError("fuzz-readers: " + message)
    exit(2)
}

func targetNamed(_ name: String) -> FuzzTarget {
    guard let target = FuzzTarget(rawValue: name) else {
        fail("unknown target '\(name)'; the targets are \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return target
}

@main
struct FuzzReaders {
    static func main() {
        #if FUZZING
        runLibFuzzer()
        #else
        replay(Array(CommandLine.arguments.dropFirst()))
        #endif
    }

    /// `fuzz-readers TARGET PATH...`
    static func replay(_ arguments: [String]) {
        guard arguments.count >= 2 else {
            fail("usage: fuzz-readers TARGET PATH... (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let target = targetNamed(arguments[0])
        let files = arguments.dropFirst().flatMap(filesAt)
        var violations = 0
        for path in files {
            do {
                switch try target.read(path) {
                case .accepted(let what): print("\(path): read: \(what)")
                case .refused(let message): print("\(path): refused: \(message)")
                }
            } catch {
                printError("fuzz-readers: \(error)")
                violations += 1
            }
        }
        print("\(target.rawValue): \(files.count) files, \(violations) refusals that do not name the file")
        exit(violations == 0 ? 0 : 1)
    }

    /// `path` itself, or the regular files in the directory `path`, sorted.
    static func filesAt(_ path: String) -> [String] {
        var info = stat()
        guard stat(path, &info) == 0 else { fail("cannot read '\(path)': \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT == S_IFDIR else { return [path] }
        guard let directory = opendir(path) else { fail("cannot list '\(path)': \(String(cString: strerror(errno)))") }
        defer { closedir(directory) }
        var files: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            let file = path + "/" + name
            var fileInfo = stat()
            if !name.hasPrefix("."), stat(file, &fileInfo) == 0, fileInfo.st_mode & S_IFMT == S_IFREG {
                files.append(file)
            }
        }
        return files.sorted()
    }
}

#if FUZZING
/// The target and scratch file of this fuzzing process, set once before
/// libFuzzer starts calling `LLVMFuzzerTestOneInput` (from one thread).
nonisolated(unsafe) private var fuzzTarget = FuzzTarget.idx
nonisolated(unsafe) private var scratchPath = ""
nonisolated(unsafe) private var scratchDescriptor: Int32 = -1

extension FuzzReaders {
    /// Hands the process to libFuzzer with the target SDDP_FUZZ_TARGET names.
    static func runLibFuzzer() -> Never {
        guard let name = getenv("SDDP_FUZZ_TARGET").map({ String(cString: $0) }) else {
            fail("set SDDP_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        fuzzTarget = targetNamed(name)
        var directory = "/dev/shm"
        if access(directory, W_OK) != 0 {
            directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        }
        scratchPath = "\(directory)/fuzz-readers-\(getpid())-\(name)"
        // Created once, new and ours (`createNewFile`): the name is
        // predictable in a world-writable directory, so it is never reopened
        // for writing, where a link planted there would be followed.
        do {
            scratchDescriptor = try createNewFile(at: scratchPath, mode: 0o600, replacingStale: true)
        } catch {
            fail("cannot create the scratch file: \(error)")
        }
        atexit { unlink(scratchPath) }
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
    }
}

/// libFuzzer's callback: the input becomes the scratch file's contents and
/// the target reads it. Returns 0 (keep the input if it adds coverage).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard ftruncate(scratchDescriptor, 0) == 0 else {
        fail("cannot truncate '\(scratchPath)': \(String(cString: strerror(errno)))")
    }
    var written = 0
    while written < size {
        let n = pwrite(scratchDescriptor, data! + written, size - written, off_t(written))
        guard n > 0 else { fail("cannot write '\(scratchPath)': \(String(cString: strerror(errno)))") }
        written += n
    }
    do {
        _ = try fuzzTarget.read(scratchPath)
    } catch {
        printError("fuzz-readers: \(error)")
        abort()
    }
    return 0
}
#endif
