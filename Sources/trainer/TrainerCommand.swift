import ArgumentParser
import Foundation
import RunLog

/// `trainer`: data-parallel neural-network training (local or under mpirun).
@main
struct TrainerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trainer",
        abstract: "Train neural networks in Swift, alone or across MPI ranks.",
        discussion: """
            Run `trainer train` alone on a laptop, or `mpirun -np 4 trainer train ...` to
            train one model across four ranks. `trainer bench` prints throughput figures.
            """,
        subcommands: [TrainCommand.self, BenchCommand.self, InspectCommand.self, EvalCommand.self, ExperimentCommand.self,
                      CheckDataCommand.self],
        defaultSubcommand: TrainCommand.self
    )

    /// Refuses arguments that are not UTF-8 before parsing them: Swift
    /// repairs such bytes in `CommandLine.arguments` (U+FFFD), so a
    /// `--checkpoint-dir run$'\xff'` would silently become another directory.
    static func main() {
        if let problem = RawArguments.firstInvalidUTF8() {
            FileHandle.standardError.write(Data("Error: \(problem)\n".utf8))
            Foundation.exit(64)  // EX_USAGE
        }
        main(nil)
    }
}

/// The command line as the kernel passed it (/proc/self/cmdline).
enum RawArguments {
    /// The first argument that is not valid UTF-8, in words (its position,
    /// the option before it, and its bytes with the bad ones escaped), or nil.
    static func firstInvalidUTF8(cmdline: [UInt8]? = try? Array(Data(contentsOf: URL(fileURLWithPath: "/proc/self/cmdline")))) -> String? {
        guard let cmdline else { return nil }  // no /proc: nothing to compare
        var arguments = cmdline.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
        if arguments.last?.isEmpty == true { arguments.removeLast() }
        for (position, bytes) in arguments.enumerated() where position > 0 {
            guard String(validating: bytes, as: UTF8.self) == nil else { continue }
            let shown = bytes.map { $0 < 0x80 && $0 >= 0x20 ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }.joined()
            let after = position > 1 ? " (after '\(String(decoding: arguments[position - 1], as: UTF8.self))')" : ""
            return "argument \(position)\(after), '\(shown)', is not valid UTF-8; paths and values must be UTF-8 "
                + "(rename the file or directory, or choose another name)"
        }
        return nil
    }
}
