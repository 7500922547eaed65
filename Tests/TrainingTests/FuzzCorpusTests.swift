import Foundation
import Testing

/// The fuzzers' seeds and every input they found a crash with
/// (Tests/FuzzCorpus/<target>/), replayed through the normal build of
/// `fuzz-readers`: each file must be read or refused with an error naming
/// it, never trap. `./launch fuzz TARGET SECONDS` does the fuzzing itself.
@Suite("fuzz corpus replay", .enabled(if: fuzzReadersExecutable != nil, "fuzz-readers is not built"))
struct FuzzCorpusTests {
    @Test("every file of Tests/FuzzCorpus/<target> is read or refused with an error that names it",
          arguments: ["idx", "cifar10", "checkpoint", "datafile"])
    func replays(target: String) throws {
        let corpus = TestSupport.packageRoot.appendingPathComponent("Tests/FuzzCorpus/\(target)").path
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus).filter { !$0.hasPrefix(".") }
        #expect(files.count >= 2, "the \(target) corpus is missing or nearly empty")
        let out = try TestSupport.run(try #require(fuzzReadersExecutable), [target, corpus])
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("\(target): \(files.count) files, 0 refusals that do not name the file"),
                "\(out.stdout)\(out.stderr)")
    }
}

/// The `fuzz-readers` replayer built alongside the test bundle (never the
/// libFuzzer build in .build/fuzz).
private let fuzzReadersExecutable: URL? = {
    var candidates: [URL] = []
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<4 {
        candidates.append(directory.appendingPathComponent("fuzz-readers"))
        directory = directory.deletingLastPathComponent()
    }
    for configuration in ["release", "debug"] {
        candidates.append(TestSupport.packageRoot.appendingPathComponent(".build/\(configuration)/fuzz-readers"))
    }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
}()
