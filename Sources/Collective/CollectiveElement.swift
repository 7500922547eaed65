/// The element types that collectives can move and reduce.
public enum CollectiveElementType: Sendable, CaseIterable {
    case float32, float64
    case int32, int64
    case uint8, uint64
}

/// A number that maps one-to-one onto an MPI datatype, so one generic
/// broadcast or allreduce serves parameters (`Float`), losses and metrics
/// (`Double`), counters (`Int64`) and random-generator state (`UInt64`).
///
/// The mapping to MPI's datatypes lives in `MPI.swift`, the only file that
/// talks to the C library.
public protocol CollectiveElement: Numeric, Sendable {
    /// The MPI datatype used for this type.
    static var collectiveElementType: CollectiveElementType { get }
}

extension Float: CollectiveElement {
    /// Sent as MPI_FLOAT.
    public static var collectiveElementType: CollectiveElementType { .float32 }
}

extension Double: CollectiveElement {
    /// Sent as MPI_DOUBLE.
    public static var collectiveElementType: CollectiveElementType { .float64 }
}

extension Int32: CollectiveElement {
    /// Sent as MPI_INT32_T.
    public static var collectiveElementType: CollectiveElementType { .int32 }
}

extension Int64: CollectiveElement {
    /// Sent as MPI_INT64_T.
    public static var collectiveElementType: CollectiveElementType { .int64 }
}

extension UInt8: CollectiveElement {
    /// Sent as MPI_UINT8_T.
    public static var collectiveElementType: CollectiveElementType { .uint8 }
}

extension UInt64: CollectiveElement {
    /// Sent as MPI_UINT64_T.
    public static var collectiveElementType: CollectiveElementType { .uint64 }
}
