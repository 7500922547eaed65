/// The numeric element types that datasets and attributes can hold.
///
/// The raw value names the type the way the file stores it (class and width),
/// which is also how errors report a mismatch: a dataset written as `float64`
/// is refused when read as `Float` instead of being silently rounded.
public enum HDF5ElementType: String, Sendable, CaseIterable {
    case float32, float64
    case int32, int64
    case uint8, uint32, uint64
}

/// A Swift number that maps one-to-one onto an HDF5 element type.
///
/// The conformances are closed in practice: the mapping to HDF5's native
/// types lives in `HDF5File.swift`, the only file that talks to the C library.
public protocol HDF5Element: Sendable {
    /// How values of this type are stored in a file.
    static var hdf5ElementType: HDF5ElementType { get }
}

extension Float: HDF5Element {
    /// Stored as IEEE `float32`.
    public static var hdf5ElementType: HDF5ElementType { .float32 }
}

extension Double: HDF5Element {
    /// Stored as IEEE `float64`.
    public static var hdf5ElementType: HDF5ElementType { .float64 }
}

extension Int32: HDF5Element {
    /// Stored as a signed 32-bit integer.
    public static var hdf5ElementType: HDF5ElementType { .int32 }
}

extension Int64: HDF5Element {
    /// Stored as a signed 64-bit integer (h5py reads it as `numpy.int64`).
    public static var hdf5ElementType: HDF5ElementType { .int64 }
}

extension UInt8: HDF5Element {
    /// Stored as an unsigned byte, for raw blobs such as encoded labels.
    public static var hdf5ElementType: HDF5ElementType { .uint8 }
}

extension UInt32: HDF5Element {
    /// Stored as an unsigned 32-bit integer.
    public static var hdf5ElementType: HDF5ElementType { .uint32 }
}

extension UInt64: HDF5Element {
    /// Stored as an unsigned 64-bit integer, e.g. random-generator state words.
    public static var hdf5ElementType: HDF5ElementType { .uint64 }
}
