/// How a dataset's values lie in its file, so that a reader can choose how
/// to read rows of it on demand (`HDF5File.datasetStorage(_:)`).
///
/// A dataset stored contiguous, unfiltered and little-endian (h5py's
/// default on every common machine) is a plain row-major array at
/// `contiguousOffset`: it can be read with `pread`, outside the library and
/// its lock, and every process on the machine shares the kernel's page
/// cache of it. Anything else (chunked, compressed, big-endian, not yet
/// written) is read through the library (`HDF5File.readRows`).
public struct HDF5DatasetStorage: Sendable, Equatable {
    /// The byte offset of the values in the file when they can be read as a
    /// plain little-endian array there; nil otherwise.
    public var contiguousOffset: Int?
    /// Whether the values are stored in chunks (h5py's `chunks=`, and any
    /// compression).
    public var isChunked: Bool
    /// The filters in the pipeline (gzip, shuffle, ...); 0 when unfiltered.
    public var filterCount: Int
    /// Bytes per stored value.
    public var elementSize: Int

    public init(contiguousOffset: Int?, isChunked: Bool, filterCount: Int, elementSize: Int) {
        self.contiguousOffset = contiguousOffset
        self.isChunked = isChunked
        self.filterCount = filterCount
        self.elementSize = elementSize
    }
}
