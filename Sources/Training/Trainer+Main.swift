import Foundation

extension Trainer {
    /// The entry point of a training program of your own: runs `body`, and
    /// when it throws, prints the error as the `trainer` command does (one
    /// line, `Error: ...`, naming the option, file or step), but naming an
    /// option by the Swift name the program set (`batchSize: ...`, the
    /// error's `swiftDescription`) rather than by a flag, and exits with
    /// the command's status: 64 for an error that running the program again
    /// would meet again (a bad option, a checkpoint of another run, bad
    /// data), 1 for any other. A top-level `try` would instead end in
    /// "Fatal error: Error raised at top level", a backtrace and SIGILL.
    /// Under mpirun, a `Trainer` that fails on one rank has already ended
    /// every rank with its message.
    public static func main(_ body: () throws -> Void) {
        do {
            try body()
        } catch {
            let message = (error as? TrainingError)?.swiftDescription ?? "\(error)"
            FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
            exit(TrainingError.exitStatus(for: error))
        }
    }
}
