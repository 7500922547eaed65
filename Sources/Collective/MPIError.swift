/// A failed MPI call. The world communicator is set to return error codes
/// (MPI_ERRORS_RETURN) instead of aborting, so failures arrive here and can
/// be reported with the function that failed and MPI's own explanation.
public struct MPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The MPI function that failed, e.g. `"MPI_Allreduce"`.
    public let function: String
    /// The MPI error code, or nil for a check made in Swift before calling MPI.
    public let code: Int32?
    /// MPI_Error_string's text for `code`, or the reason found in Swift.
    public let message: String

    /// An error; normally made by this module only.
    public init(function: String, code: Int32?, message: String) {
        self.function = function
        self.code = code
        self.message = message
    }

    /// One line: function, MPI's message and the code.
    public var description: String {
        if let code {
            return "\(function) failed: \(message) (MPI error \(code))"
        }
        return "\(function) failed: \(message)"
    }
}
