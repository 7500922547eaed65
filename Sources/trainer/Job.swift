import ArgumentParser
import Collective
import Foundation
import Training

/// The MPI side of a command: the world when started by mpirun (nil alone),
/// and how a rank that fails takes the whole job down with its message.
enum Job {
    /// The world communicator under mpirun; nil for a plain local run, which
    /// then never initialises MPI.
    static func communicator() throws -> Communicator? {
        Communicator.isUnderMPIRun ? try Communicator.world() : nil
    }

    /// Runs `body`; when it throws on one rank of a multi-rank job, prints
    /// the error with the rank and aborts every rank (the others would wait
    /// forever in their next collective), so mpirun exits non-zero with this
    /// rank's message. Alone, the error is rethrown for the usual report,
    /// except one that the same command would meet again: printed as
    /// swift-argument-parser prints errors, it exits with
    /// `TrainingError.permanentExitStatus` (64), which ./launch does not
    /// restart; so does a bad value of a command-line-only option (`CommandLineError`).
    @discardableResult
    static func run<Result>(_ communicator: Communicator?, _ body: () throws -> Result) throws -> Result {
        do {
            return try body()
        } catch {
            Trainer.endJob(communicator, error)
            guard TrainingError.isPermanent(error) || error is CommandLineError else { throw error }
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            throw ExitCode(TrainingError.permanentExitStatus)
        }
    }

    /// BLAS threads: one per rank under MPI, all cores when alone.
    static func defaultThreads(_ communicator: Communicator?) -> Int {
        (communicator?.size ?? 1) > 1 ? 1 : ProcessInfo.processInfo.activeProcessorCount
    }
}
