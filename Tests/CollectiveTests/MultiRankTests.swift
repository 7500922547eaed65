import Collective
import Foundation
import Testing

/// Real multi-rank checks: runs the `collective-selftest` executable under
/// mpirun with 2 and 4 ranks. One process cannot tell a sum from a copy.
@Suite(.serialized, .enabled(if: mpirunPath != nil, "mpirun is not on PATH; install openmpi-bin"))
struct MultiRankTests {
    /// One mpirun configuration.
    struct Launch: Sendable, CustomTestStringConvertible {
        let ranks: Int
        /// Force the TCP transport instead of shared memory, to cover the
        /// path that ranks on different machines take.
        let forceTCP: Bool

        var testDescription: String { "\(ranks) ranks" + (forceTCP ? " over TCP" : "") }
    }

    @Test(.timeLimit(.minutes(2)), arguments: [
        Launch(ranks: 2, forceTCP: true),
        Launch(ranks: 4, forceTCP: false),
    ])
    func selftestPassesUnderMPIRun(_ launch: Launch) throws {
        let mpirun = try #require(mpirunPath)
        let selftest = try #require(
            selftestExecutable(),
            "collective-selftest not found next to the test binary; `swift build` builds it")

        var arguments = ["--allow-run-as-root", "--oversubscribe", "--timeout", "90", "-np", "\(launch.ranks)"]
        if launch.forceTCP {
            arguments += ["--mca", "btl", "self,tcp"]
        }
        arguments.append(selftest)

        let started = ContinuousClock.now
        let (status, output) = try run(mpirun, arguments)
        let elapsed = ContinuousClock.now - started
        print("mpirun \(launch.testDescription): exit \(status) in \(elapsed)")

        #expect(status == 0, "mpirun exited \(status):\n\(output)")
        for rank in 0..<launch.ranks {
            #expect(output.contains("collective-selftest rank \(rank) of \(launch.ranks) ok"), "\(output)")
        }
    }
}

/// mpirun's path, if it is on PATH.
let mpirunPath: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":")
        .map { "\($0)/mpirun" }
        .first { FileManager.default.isExecutableFile(atPath: $0) }
}()

/// The built `collective-selftest`. SwiftPM puts every product of one build
/// in the same directory: on Linux the test binary itself
/// (`<scratch>/<triple>/<config>/<Package>PackageTests.xctest`) sits there,
/// on macOS it is inside a bundle in that directory; so search upwards from
/// the running executable. `COLLECTIVE_SELFTEST` overrides the search.
func selftestExecutable() -> String? {
    let environment = ProcessInfo.processInfo.environment
    if let path = environment["COLLECTIVE_SELFTEST"] {
        return path
    }
    let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    var directory = executable.resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("collective-selftest").path
        if FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        directory = directory.deletingLastPathComponent()
    }
    return nil
}

/// Runs a command with OpenMPI's and PMIx's variables removed from its
/// environment (this test process may have initialised MPI as a singleton,
/// and a child mpirun that inherits them tries to join that world), and
/// returns its exit status with stdout and stderr together.
func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.filter {
        !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_")
    }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}
