/// A failed HDF5 operation, naming the file, the object inside it and what
/// was being done, so a broken checkpoint can be found without a debugger.
///
/// HDF5's own error stack is silenced (it would print to stderr from every
/// thread); its most specific message is carried in `detail` instead.
public struct HDF5Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why the operation failed, for callers that react differently to a
    /// missing attribute than to a corrupt file.
    public enum Kind: Sendable, Equatable {
        /// The HDF5 library returned a negative code (corrupt, missing or
        /// unreadable file, name clash, ...).
        case library
        /// The dataset, group or attribute does not exist.
        case notFound
        /// The stored element type or object kind differs from the requested one.
        case wrongType
        /// The stored shape differs from the requested one.
        case wrongShape
        /// The file was already closed.
        case closed
    }

    /// Why it failed.
    public let kind: Kind
    /// The file on disk.
    public let filePath: String
    /// The group, dataset or attribute inside the file (`"/"` for the file itself).
    public let objectPath: String
    /// What was being done, in words ("open file", "write dataset").
    public let operation: String
    /// The C function that failed, or empty for checks made in Swift.
    public let function: String
    /// HDF5's most specific message, or the reason found in Swift.
    public let detail: String

    /// An error; normally made by `HDF5File` only.
    public init(kind: Kind, filePath: String, objectPath: String, operation: String,
                function: String = "", detail: String) {
        self.kind = kind
        self.filePath = filePath
        self.objectPath = objectPath
        self.operation = operation
        self.function = function
        self.detail = detail
    }

    /// One line: file, object, operation, function and detail, e.g.
    /// `HDF5 file 'ckpt.h5', object '/model/w': cannot read dataset: no such dataset`.
    public var description: String {
        let call = function.isEmpty ? "" : " (\(function))"
        return "HDF5 file '\(filePath)', object '\(objectPath)': cannot \(operation)\(call): \(detail)"
    }
}
