import Checkpoint
import DataLoading
@_exported import TrainingErrors

extension TrainingError {
    /// `trainer`'s exit status (and, under mpirun, the MPI_Abort code) for an
    /// error that running the same command again will meet again: a bad
    /// option value, a --checkpoint-dir that another live run holds or that
    /// cannot be written, a data set or --data file that is missing or
    /// invalid. 64 (EX_USAGE), the status swift-argument-parser already
    /// exits with for a bad command line, so one status says "fix the
    /// command": ./launch does not restart on it. Every other failure exits 1.
    public static let permanentExitStatus: Int32 = 64

    /// Whether `error` is one that the same command will meet again (see
    /// `permanentExitStatus`); a failed read (I/O) may not be.
    public static func isPermanent(_ error: any Error) -> Bool {
        switch error {
        case let error as TrainingError:
            switch error {
            case .invalidOption, .data: return true
            default: return false
            }
        case let error as DataError:
            return error.kind != .readFailed
        case let error as CheckpointError:
            if case .directory = error { return true }
            return false
        default:
            return false
        }
    }

    /// The exit status for `error`: `permanentExitStatus` or 1.
    public static func exitStatus(for error: any Error) -> Int32 {
        isPermanent(error) ? permanentExitStatus : 1
    }
}
