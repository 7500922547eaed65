import CHDF5
import SafeFiles
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The only file in Checkpoint that talks to the HDF5 C library. Every call
// goes through `withHDF5`, which holds the process-wide lock, and every
// negative return code becomes a thrown `HDF5Error`.

/// Serial HDF5 keeps global state (open-object tables, the error stack, the
/// metadata cache) with no locking of its own, so every HDF5 call in the
/// process, from any file and any thread, goes through this one lock. The
/// flag records whether the library has been opened and silenced yet.
private let libraryLock = Mutex<Bool>(false)

/// Runs `body` holding the HDF5 lock, with HDF5's automatic error printing
/// turned off (it would write every failure's stack to stderr; errors are
/// thrown instead). The setting is per thread when the library is built
/// thread-safe, as Debian's is, so it is applied on every call, not once.
private func withHDF5<R: Sendable>(_ body: () throws -> R) throws -> R {
    try libraryLock.withLock { opened in
        if !opened {
            _ = H5open()
            opened = true
        }
        _ = H5Eset_auto2(chdf5_e_default(), nil, nil)
        return try body()
    }
}

/// Collects descriptions while walking HDF5's error stack.
private final class ErrorMessages {
    var messages: [String] = []
}

/// Collects attribute names while iterating over an object's attributes.
private final class NameList {
    var names: [String] = []
}

/// HDF5's most specific error message for the call that just failed; clears
/// the stack so the next failure starts fresh. Call with the lock held.
private func takeErrorDetail() -> String {
    let box = ErrorMessages()
    withExtendedLifetime(box) {
        let context = Unmanaged.passUnretained(box).toOpaque()
        _ = H5Ewalk2(chdf5_e_default(), H5E_WALK_UPWARD, { _, error, context in
            guard let error, let context, let text = error.pointee.desc else { return 0 }
            Unmanaged<ErrorMessages>.fromOpaque(context).takeUnretainedValue()
                .messages.append(String(cString: text))
            return 0
        }, context)
    }
    _ = H5Eclear2(chdf5_e_default())
    return box.messages.first ?? "no detail from the HDF5 library"
}

extension HDF5ElementType {
    /// The in-memory HDF5 type for this element; the library converts byte
    /// order when the file was written on a machine of the other endianness.
    fileprivate var nativeType: hid_t {
        switch self {
        case .float32: chdf5_native_float()
        case .float64: chdf5_native_double()
        case .int32: chdf5_native_int32()
        case .int64: chdf5_native_int64()
        case .uint8: chdf5_native_uint8()
        case .uint32: chdf5_native_uint32()
        case .uint64: chdf5_native_uint64()
        }
    }
}

/// An open HDF5 file: groups, n-dimensional datasets and attributes, with
/// paths such as `"/optimizer/0.weight"` exactly like a PyTorch state_dict
/// saved by h5py.
///
/// Every method takes the process-wide HDF5 lock, so files may be used from
/// any thread, but calls never overlap: serial HDF5 is not thread-safe.
/// A file that is not closed explicitly is closed when the object goes away.
///
/// `@unchecked Sendable` because the only mutable state, the file's HDF5 id,
/// is read and written with the process-wide HDF5 lock held.
public final class HDF5File: @unchecked Sendable {
    /// The path the file was created or opened with.
    public let path: String
    /// Whether the file was opened without write access.
    public let isReadOnly: Bool
    /// HDF5's id for the open file; -1 once closed. Guarded by `libraryLock`.
    private var id: hid_t
    /// Datasets kept open by `readRows`, by path: a dataset's chunk cache
    /// lives only while it is open, so closing it after every row would
    /// decompress its chunk again for each row. Guarded by `libraryLock`.
    private var rowReaders: [String: hid_t] = [:]

    private init(path: String, id: hid_t, isReadOnly: Bool) {
        self.path = path
        self.id = id
        self.isReadOnly = isReadOnly
    }

    deinit {
        let id = self.id, readers = rowReaders
        if id >= 0 {
            _ = try? withHDF5 {
                for dataset in readers.values { _ = H5Dclose(dataset) }
                return H5Fclose(id)
            }
        }
    }

    // MARK: Opening and closing

    /// Creates a new file at `path`, replacing any file already there.
    ///
    /// The name is unlinked first and the file created with `H5F_ACC_EXCL`
    /// (`O_CREAT | O_EXCL` in HDF5's sec2 driver), never `H5F_ACC_TRUNC`,
    /// which follows a symbolic or hard link planted at `path` and truncates
    /// its target (see `createNewFile(at:mode:replacingStale:)`). If the name
    /// reappears in between, the create fails naming `path`.
    ///
    /// For a checkpoint, create it under a temporary name and move it into
    /// place with `durableReplace(temporary:destination:)` after `close()`:
    /// a file whose writer dies half way is unreadable.
    public static func create(_ path: String) throws -> HDF5File {
        if unlink(path) != 0 && errno != ENOENT {
            throw HDF5Error(kind: .library, filePath: path, objectPath: "/", operation: "create file",
                            detail: "cannot remove the file already there: \(String(cString: strerror(errno)))")
        }
        return try withHDF5 {
            let access = try fileAccessList(path: path)
            defer { _ = H5Pclose(access) }
            let id = H5Fcreate(path, chdf5_acc_excl(), chdf5_p_default(), access)
            if id < 0 {
                throw libraryError(path, "/", "create file", "H5Fcreate")
            }
            return HDF5File(path: path, id: id, isReadOnly: false)
        }
    }

    /// Creates a file that lives only in memory (HDF5's "core" driver with
    /// no backing store), to be written out whole with `image()`.
    ///
    /// Checkpoints are built this way so that HDF5 never writes to the disk
    /// itself: when a write through the library fails (ENOSPC on a full
    /// disk), HDF5 keeps the half-flushed file open in its global tables and
    /// crashes later, when it retries the flush at close or at exit. With the
    /// file in memory the only disk write is ours, and its failure is an
    /// ordinary error. `name` is only used in error messages.
    ///
    /// The library is given `/dev/null/<name>`, a path that cannot exist
    /// (ENOTDIR): even with no backing store, `H5Fcreate` first opens the
    /// name read-write to see whether a file is there, and would follow a
    /// link planted at it (or block reading a FIFO) before our own exclusive
    /// create (`writeFile`) ever runs.
    public static func createInMemory(_ name: String) throws -> HDF5File {
        try withHDF5 {
            let access = try fileAccessList(path: name)
            defer { _ = H5Pclose(access) }
            // 1 MiB growth steps; no backing store: nothing is written at close.
            if H5Pset_fapl_core(access, 1 << 20, false) < 0 {
                throw libraryError(name, "/", "use the in-memory driver", "H5Pset_fapl_core")
            }
            let id = H5Fcreate("/dev/null/" + name, chdf5_acc_trunc(), chdf5_p_default(), access)
            if id < 0 {
                throw libraryError(name, "/", "create file", "H5Fcreate")
            }
            return HDF5File(path: name, id: id, isReadOnly: false)
        }
    }

    /// The bytes of the whole file as it would be on disk (flushed first):
    /// for a file made by `createInMemory(_:)`, what to write out.
    public func image() throws -> [UInt8] {
        try withHDF5 {
            let id = try openID("/")
            try check(H5Fflush(id, H5F_SCOPE_GLOBAL), "flush file", "H5Fflush", "/")
            let size = H5Fget_file_image(id, nil, 0)
            guard size > 0 else { throw Self.libraryError(path, "/", "measure file image", "H5Fget_file_image") }
            var bytes = [UInt8](repeating: 0, count: size)
            let copied = bytes.withUnsafeMutableBytes { H5Fget_file_image(id, $0.baseAddress, size) }
            guard copied == size else { throw Self.libraryError(path, "/", "copy file image", "H5Fget_file_image") }
            Self.repairSuperblockChecksum(&bytes)
            return bytes
        }
    }

    /// HDF5 1.10's `H5Fget_file_image` clears the superblock's "open for
    /// writing" flags in the image but keeps the checksum computed with them
    /// set, so the image would not open ("incorrect metadata checksum").
    /// For a version 2 or 3 superblock at offset 0 (this class writes no user
    /// block) with 8-byte addresses: 12 bytes of header, four addresses, then
    /// the checksum of everything before it. Recomputed only when wrong, so a
    /// library without the bug changes nothing.
    private static func repairSuperblockChecksum(_ image: inout [UInt8]) {
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
        let checksumOffset = 12 + 4 * 8
        guard image.count >= checksumOffset + 4, Array(image[0..<8]) == signature,
              image[8] == 2 || image[8] == 3, image[9] == 8 else { return }
        let actual = image.withUnsafeBytes { H5_checksum_metadata($0.baseAddress, checksumOffset, 0) }
        withUnsafeBytes(of: actual.littleEndian) { bytes in
            for (i, byte) in bytes.enumerated() { image[checksumOffset + i] = byte }
        }
    }

    /// Opens an existing file; a missing, truncated or non-HDF5 file throws
    /// an error that names `path`, and so does a damaged global heap that
    /// would hang the library (`StructureCheck`).
    public static func open(_ path: String, readOnly: Bool = true) throws -> HDF5File {
        // A FIFO or a device would block or never end the reads below (and
        // libhdf5's own): only a regular file (after links) is an HDF5 file.
        if let kind = specialFileKind(path) {
            throw HDF5Error(kind: .library, filePath: path, objectPath: "/", operation: "open file",
                            detail: "not a regular file (a \(kind)); an HDF5 file is a regular file")
        }
        if let damage = StructureCheck.rememberedDamage(inFileAt: path) {
            throw HDF5Error(kind: .library, filePath: path, objectPath: "/", operation: "open file", detail: damage)
        }
        return try withHDF5 {
            let access = try fileAccessList(path: path, reading: true)
            defer { _ = H5Pclose(access) }
            let flags = readOnly ? chdf5_acc_rdonly() : chdf5_acc_rdwr()
            let id = H5Fopen(path, flags, access)
            if id < 0 {
                throw libraryError(path, "/", "open file", "H5Fopen")
            }
            return HDF5File(path: path, id: id, isReadOnly: readOnly)
        }
    }

    /// Flushes and closes the file; closing twice does nothing. Any later
    /// call on this object throws an error of kind `.closed`.
    public func close() throws {
        try withHDF5 {
            guard id >= 0 else { return }
            let closing = id
            id = -1
            for dataset in rowReaders.values { _ = H5Dclose(dataset) }
            rowReaders = [:]
            try check(H5Fclose(closing), "close file", "H5Fclose", "/")
        }
    }

    /// A file-access property list for every file this class opens.
    ///
    /// The "strong" close degree makes closing the file close everything in
    /// it, so `close()` really writes the file out and releases it even if an
    /// object id leaked.
    ///
    /// HDF5's advisory file locks (flock) are turned off. A child process
    /// forked while a file is open inherits its descriptor and with it the
    /// lock: OpenMPI's singleton initialisation forks an `orted` daemon that
    /// keeps every inherited descriptor for the life of the process, after
    /// which reopening that file fails with "unable to lock file, errno = 11".
    /// The locks add nothing here: checkpoints are written under a temporary
    /// name and renamed into place (`durableReplace`), so no reader ever sees
    /// a file that is being written.
    ///
    /// New files use the HDF5 1.8 file format (superblock 2, version-2
    /// object headers) rather than the 1.0 one: its metadata blocks carry
    /// checksums, so a flipped byte in a header or an attribute is reported
    /// when the file is read instead of being returned as a wrong value.
    /// Every HDF5 release since 1.8 (2008), h5py and h5dump included, reads it.
    private static func fileAccessList(path: String, reading: Bool = false) throws -> hid_t {
        let access = H5Pcreate(chdf5_p_file_access())
        if access < 0 {
            throw libraryError(path, "/", "make file access list", "H5Pcreate")
        }
        if H5Pset_fclose_degree(access, H5F_CLOSE_STRONG) < 0 {
            let failure = libraryError(path, "/", "set close degree", "H5Pset_fclose_degree")
            _ = H5Pclose(access)
            throw failure
        }
        if H5Pset_file_locking(access, false, true) < 0 {
            let failure = libraryError(path, "/", "turn off file locking", "H5Pset_file_locking")
            _ = H5Pclose(access)
            throw failure
        }
        // Reading, any format the library knows: h5py's libver="latest" files too (V110: the newest this 1.10 library knows).
        let bounds = reading ? (H5F_LIBVER_EARLIEST, H5F_LIBVER_V110) : (H5F_LIBVER_V18, H5F_LIBVER_V18)
        if H5Pset_libver_bounds(access, bounds.0, bounds.1) < 0 {
            let failure = libraryError(path, "/", "choose the file format version", "H5Pset_libver_bounds")
            _ = H5Pclose(access)
            throw failure
        }
        return access
    }

    // MARK: Groups and listing

    /// Creates the group at `path` and any missing parents ("/optimizer/0.weight"
    /// creates "/optimizer" first). An existing group is left as it is.
    ///
    /// With `tracksCreationOrder`, the group remembers the order its links
    /// were made in, and `children(of:)` (and h5py) list them in that order
    /// rather than by name: a state_dict keeps "0.weight", "0.bias",
    /// "2.weight", ... in module order, where sorting would put "10.weight"
    /// before "2.weight".
    public func createGroup(_ path: String, tracksCreationOrder: Bool = false) throws {
        let path = normalized(path)
        try withHDF5 {
            let file = try openID(path)
            if linkExists(file, path) {
                let kind = try objectKind(file, path)
                guard kind == .group else {
                    throw error(.wrongType, path, "create group", "a \(kind) is already there")
                }
                return
            }
            let links = try intermediateGroupsList(path)
            defer { _ = H5Pclose(links) }
            let creation = try check(H5Pcreate(chdf5_p_group_create()), "create group", "H5Pcreate", path)
            defer { _ = H5Pclose(creation) }
            if tracksCreationOrder {
                try check(H5Pset_link_creation_order(creation, UInt32(H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED)),
                          "create group", "H5Pset_link_creation_order", path)
            }
            let group = try check(
                H5Gcreate2(file, path, links, creation, chdf5_p_default()),
                "create group", "H5Gcreate2", path)
            _ = H5Gclose(group)
        }
    }

    /// Whether a group or dataset exists at `path` (`"/"` always does).
    public func exists(_ path: String) throws -> Bool {
        let path = normalized(path)
        return try withHDF5 {
            linkExists(try openID(path), path)
        }
    }

    /// The links in the group at `group`, each with whether it is a group or
    /// a dataset: in creation order if the group tracks it (see
    /// `createGroup(_:tracksCreationOrder:)`), otherwise sorted by name.
    public func children(of group: String = "/") throws -> [HDF5Child] {
        let path = normalized(group)
        return try withHDF5 {
            let file = try openID(path)
            try requireKind(.group, file, path, "list group")
            let handle = try check(H5Gopen2(file, path, chdf5_p_default()), "list group", "H5Gopen2", path)
            defer { _ = H5Gclose(handle) }
            var info = H5G_info_t()
            try check(H5Gget_info(handle, &info), "list group", "H5Gget_info", path)
            let creation = try check(H5Gget_create_plist(handle), "list group", "H5Gget_create_plist", path)
            var orderFlags: UInt32 = 0
            let flagsCode = H5Pget_link_creation_order(creation, &orderFlags)
            _ = H5Pclose(creation)
            try check(flagsCode, "list group", "H5Pget_link_creation_order", path)
            let order = orderFlags & UInt32(H5P_CRT_ORDER_INDEXED) != 0 ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME
            var result: [HDF5Child] = []
            for index in 0..<info.nlinks {
                let length = try check(
                    H5Lget_name_by_idx(handle, ".", order, H5_ITER_INC, index, nil, 0, chdf5_p_default()),
                    "list group", "H5Lget_name_by_idx", path)
                var bytes = [CChar](repeating: 0, count: length + 1)
                try check(
                    H5Lget_name_by_idx(handle, ".", order, H5_ITER_INC, index, &bytes, bytes.count,
                                       chdf5_p_default()),
                    "list group", "H5Lget_name_by_idx", path)
                let name = String(decoding: bytes.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let kind = try objectKind(file, joined(path, name))
                result.append(HDF5Child(name: name, kind: kind))
            }
            return result
        }
    }

    // MARK: Datasets

    /// Writes a new dataset at `path` (creating parent groups) with the given
    /// shape, row-major, from `values`; an empty shape writes a scalar.
    /// The dataset must not exist yet.
    public func writeDataset<T: HDF5Element>(_ path: String, shape: [Int], values: UnsafeBufferPointer<T>) throws {
        precondition(shape.allSatisfy { $0 >= 0 }, "Dataset shape \(shape) has a negative dimension")
        precondition(values.count == shape.reduce(1, *),
                     "Dataset \(path) has shape \(shape) but \(values.count) values were given")
        let path = normalized(path)
        try withHDF5 {
            let file = try openID(path)
            let type = T.hdf5ElementType.nativeType
            let space = try dataspace(shape: shape, path)
            defer { _ = H5Sclose(space) }
            let links = try intermediateGroupsList(path)
            defer { _ = H5Pclose(links) }
            let dataset = try check(
                H5Dcreate2(file, path, type, space, links, chdf5_p_default(), chdf5_p_default()),
                "create dataset", "H5Dcreate2", path)
            defer { _ = H5Dclose(dataset) }
            // Nothing to write for a zero-sized dataset, and no buffer to point at.
            if let base = values.baseAddress, !values.isEmpty {
                try check(
                    H5Dwrite(dataset, type, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), base),
                    "write dataset", "H5Dwrite", path)
            }
        }
    }

    /// Writes a new dataset at `path` from an array; see the buffer version.
    public func writeDataset<T: HDF5Element>(_ path: String, shape: [Int], values: [T]) throws {
        try values.withUnsafeBufferPointer { try writeDataset(path, shape: shape, values: $0) }
    }

    /// The shape of the dataset at `path` without reading its values
    /// (`[]` for a scalar).
    public func datasetShape(_ path: String) throws -> [Int] {
        let path = normalized(path)
        return try withHDF5 {
            let dataset = try openDataset(path, "read dataset shape")
            defer { _ = H5Dclose(dataset) }
            return try shapeOf(dataset: dataset, path, "read dataset shape")
        }
    }

    /// The element type the dataset at `path` is stored as, or nil for a
    /// type with no `HDF5Element` (the error then names it).
    public func datasetElementType(_ path: String) throws -> (type: HDF5ElementType?, description: String) {
        let path = normalized(path)
        return try withHDF5 {
            let dataset = try openDataset(path, "read dataset type")
            defer { _ = H5Dclose(dataset) }
            let stored = try check(H5Dget_type(dataset), "read dataset type", "H5Dget_type", path)
            defer { _ = H5Tclose(stored) }
            let found = describe(type: stored)
            return (HDF5ElementType(rawValue: found), found)
        }
    }

    /// The shape and row-major values of the dataset at `path`; throws
    /// `.wrongType` if it was stored with another element type.
    public func readDataset<T: HDF5Element>(_ path: String, as type: T.Type = T.self) throws
        -> (shape: [Int], values: [T])
    {
        let path = normalized(path)
        return try withHDF5 {
            let dataset = try openDataset(path, "read dataset")
            defer { _ = H5Dclose(dataset) }
            try requireElementType(T.hdf5ElementType, of: .dataset(dataset), path)
            let shape = try shapeOf(dataset: dataset, path, "read dataset")
            let count = shape.reduce(1, *)
            let values = try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                if let base = buffer.baseAddress, count > 0 {
                    try check(
                        H5Dread(dataset, T.hdf5ElementType.nativeType, chdf5_s_all(), chdf5_s_all(),
                                chdf5_p_default(), base),
                        "read dataset", "H5Dread", path)
                }
                initialized = count
            }
            return (shape, values)
        }
    }

    /// The shape and values of an integer dataset of any width and sign
    /// (int8 ... int64, uint8 ... uint64, as numpy stores them), converted
    /// by the library to Int64: the file's type need not be one of
    /// `HDF5ElementType`. Throws `.wrongType`, naming the stored type, for
    /// anything but integers. A uint64 above `Int64.max` reads as
    /// `Int64.max` (the library's conversion saturates).
    public func readIntegerDataset(_ path: String) throws -> (shape: [Int], values: [Int64]) {
        let path = normalized(path)
        return try withHDF5 {
            let dataset = try openDataset(path, "read dataset")
            defer { _ = H5Dclose(dataset) }
            let stored = try check(H5Dget_type(dataset), "read dataset", "H5Dget_type", path)
            defer { _ = H5Tclose(stored) }
            guard H5Tget_class(stored) == H5T_INTEGER else {
                throw error(.wrongType, path, "read dataset", "it holds \(describe(type: stored)), expected integers")
            }
            let shape = try shapeOf(dataset: dataset, path, "read dataset")
            let count = shape.reduce(1, *)
            let values = try [Int64](unsafeUninitializedCapacity: count) { buffer, initialized in
                if let base = buffer.baseAddress, count > 0 {
                    try check(H5Dread(dataset, chdf5_native_int64(), chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), base),
                              "read dataset", "H5Dread", path)
                }
                initialized = count
            }
            return (shape, values)
        }
    }

    /// Reads the dataset at `path` straight into `buffer` (for example a view
    /// into one contiguous parameter buffer) and returns its shape; throws
    /// `.wrongShape` unless it holds exactly `buffer.count` values.
    @discardableResult
    public func readDataset<T: HDF5Element>(_ path: String, into buffer: UnsafeMutableBufferPointer<T>) throws
        -> [Int]
    {
        let path = normalized(path)
        return try withHDF5 {
            let dataset = try openDataset(path, "read dataset")
            defer { _ = H5Dclose(dataset) }
            try requireElementType(T.hdf5ElementType, of: .dataset(dataset), path)
            let shape = try shapeOf(dataset: dataset, path, "read dataset")
            let count = shape.reduce(1, *)
            guard count == buffer.count else {
                throw error(.wrongShape, path, "read dataset",
                            "it has shape \(shape) (\(count) values) but the buffer holds \(buffer.count)")
            }
            if let base = buffer.baseAddress, count > 0 {
                try check(
                    H5Dread(dataset, T.hdf5ElementType.nativeType, chdf5_s_all(), chdf5_s_all(),
                            chdf5_p_default(), base),
                    "read dataset", "H5Dread", path)
            }
            return shape
        }
    }

    // MARK: Reading rows on demand (streamed data sets)

    /// How the dataset at `path` is stored (see `HDF5DatasetStorage`), after
    /// the checks every read makes (external and virtual storage refused, a
    /// shape the file has no room for refused). A contiguous dataset whose
    /// values would end past the end of the file is refused as truncated.
    public func datasetStorage(_ path: String) throws -> HDF5DatasetStorage {
        let path = normalized(path)
        return try withHDF5 {
            let operation = "read dataset layout"
            let dataset = try openDataset(path, operation)
            defer { _ = H5Dclose(dataset) }
            let shape = try shapeOf(dataset: dataset, path, operation)
            let type = try check(H5Dget_type(dataset), operation, "H5Dget_type", path)
            let elementSize = H5Tget_size(type)
            let littleEndian = H5Tget_order(type) == H5T_ORDER_LE || elementSize == 1
            _ = H5Tclose(type)
            let creation = try check(H5Dget_create_plist(dataset), operation, "H5Dget_create_plist", path)
            let layout = H5Pget_layout(creation)
            let filters = H5Pget_nfilters(creation)
            _ = H5Pclose(creation)
            try check(filters, operation, "H5Pget_nfilters", path)
            var offset: Int?
            if layout == H5D_CONTIGUOUS && filters == 0 && littleEndian {
                let address = H5Dget_offset(dataset)
                _ = H5Eclear2(chdf5_e_default())  // an unallocated dataset has no address: read through the library
                if address != chdf5_haddr_undef() && UInt64(address) <= UInt64(Int.max) {
                    let bytes = shape.reduce(elementSize, *)
                    var fileSize: hsize_t = 0
                    try check(H5Fget_filesize(try openID(path), &fileSize), operation, "H5Fget_filesize", path)
                    let (end, overflow) = UInt64(address).addingReportingOverflow(UInt64(bytes))
                    guard !overflow, end <= fileSize else {
                        throw error(.wrongShape, path, operation, "its \(bytes) bytes of values at offset \(address) end past "
                                    + "the end of the file (\(fileSize) bytes): the file is truncated")
                    }
                    offset = Int(address)
                }
            }
            return HDF5DatasetStorage(contiguousOffset: offset, isChunked: layout == H5D_CHUNKED, filterCount: Int(filters),
                                      elementSize: elementSize)
        }
    }

    /// Reads rows `rows` of the dataset at `path` (first dimension; every
    /// other dimension whole) into `buffer`, converted by the library to
    /// `type` (any integer width reads as `.int64`, for example); `buffer`
    /// holds exactly the rows' values.
    ///
    /// The dataset stays open for later calls with a chunk cache of
    /// `chunkCacheBytes` (HDF5's default is 1 MiB): rows of one chunk read
    /// one after another decompress it once, and the memory it takes stays
    /// bounded whatever the dataset's size.
    public func readRows(_ path: String, rows: Range<Int>, as type: HDF5ElementType,
                         into buffer: UnsafeMutableRawBufferPointer, chunkCacheBytes: Int = 32 << 20) throws {
        let path = normalized(path)
        try withHDF5 {
            let operation = "read rows \(rows.lowerBound)..<\(rows.upperBound)"
            let dataset = try rowReader(path, chunkCacheBytes: chunkCacheBytes)
            let space = try check(H5Dget_space(dataset), operation, "H5Dget_space", path)
            defer { _ = H5Sclose(space) }
            let rank = Int(try check(H5Sget_simple_extent_ndims(space), operation, "H5Sget_simple_extent_ndims", path))
            var dims = [hsize_t](repeating: 0, count: rank)
            if rank > 0 {
                try check(H5Sget_simple_extent_dims(space, &dims, nil), operation, "H5Sget_simple_extent_dims", path)
            }
            guard rank >= 1, rows.lowerBound >= 0, UInt64(rows.upperBound) <= dims[0] else {
                throw error(.wrongShape, path, operation, "the dataset has shape \(dims)")
            }
            let values = dims.dropFirst().reduce(rows.count) { $0 * Int($1) }
            let size = switch type {
            case .uint8: 1
            case .int32, .uint32, .float32: 4
            case .int64, .uint64, .float64: 8
            }
            precondition(buffer.count == values * size,
                         "readRows: \(rows.count) rows of \(path) are \(values * size) bytes, the buffer holds \(buffer.count)")
            guard values > 0, let base = buffer.baseAddress else { return }
            var start = [hsize_t](repeating: 0, count: rank), count = dims
            start[0] = hsize_t(rows.lowerBound)
            count[0] = hsize_t(rows.count)
            try check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nil, count, nil), operation, "H5Sselect_hyperslab", path)
            var memoryDims = [hsize_t(values)]
            let memory = try check(H5Screate_simple(1, &memoryDims, nil), operation, "H5Screate_simple", path)
            defer { _ = H5Sclose(memory) }
            try check(H5Dread(dataset, type.nativeType, memory, space, chdf5_p_default(), base), operation, "H5Dread", path)
        }
    }

    /// The dataset at `path`, opened once with a chunk cache of
    /// `chunkCacheBytes` and the checks `shapeOf` makes. Call with the lock held.
    private func rowReader(_ path: String, chunkCacheBytes: Int) throws -> hid_t {
        if let open = rowReaders[path] { return open }
        let operation = "read rows"
        let file = try openID(path)
        try requireKind(.dataset, file, path, operation)
        let access = try check(H5Pcreate(chdf5_p_dataset_access()), operation, "H5Pcreate", path)
        defer { _ = H5Pclose(access) }
        // 12,421 slots (a prime, as HDF5 asks) for chunks of the dataset; w0 0.75 is HDF5's default.
        try check(H5Pset_chunk_cache(access, 12_421, max(chunkCacheBytes, 0), 0.75), operation, "H5Pset_chunk_cache", path)
        let dataset = try check(H5Dopen2(file, path, access), operation, "H5Dopen2", path)
        do {
            _ = try shapeOf(dataset: dataset, path, operation)
        } catch {
            _ = H5Dclose(dataset)
            throw error
        }
        rowReaders[path] = dataset
        return dataset
    }

    // MARK: Attributes

    /// Sets a variable-length UTF-8 string attribute on the object at `path`
    /// (replacing one of the same name), stored so that h5py reads a `str`.
    public func setAttribute(_ name: String, _ value: String, on path: String = "/") throws {
        let path = normalized(path)
        try withHDF5 {
            let type = try utf8StringType(path, name)
            defer { _ = H5Tclose(type) }
            let space = try check(H5Screate(H5S_SCALAR), "set attribute", "H5Screate", attributePath(path, name))
            defer { _ = H5Sclose(space) }
            try value.withCString { text in
                var pointer: UnsafePointer<CChar>? = text
                try withUnsafePointer(to: &pointer) { data in
                    try writeAttribute(name, on: path, type: type, space: space, data: data)
                }
            }
        }
    }

    /// Sets a scalar numeric attribute (e.g. the step counter as `Int64`,
    /// the learning rate as `Double`) on the object at `path`.
    public func setAttribute<T: HDF5Element>(_ name: String, _ value: T, on path: String = "/") throws {
        let path = normalized(path)
        try withHDF5 {
            let space = try check(H5Screate(H5S_SCALAR), "set attribute", "H5Screate", attributePath(path, name))
            defer { _ = H5Sclose(space) }
            try withUnsafePointer(to: value) { data in
                try writeAttribute(name, on: path, type: T.hdf5ElementType.nativeType, space: space, data: data)
            }
        }
    }

    /// Sets a one-dimensional numeric attribute (e.g. a random generator's
    /// four `UInt64` state words) on the object at `path`.
    public func setAttribute<T: HDF5Element>(_ name: String, _ values: [T], on path: String = "/") throws {
        let path = normalized(path)
        try withHDF5 {
            let space = try dataspace(shape: [values.count], attributePath(path, name))
            defer { _ = H5Sclose(space) }
            try values.withUnsafeBufferPointer { buffer in
                // HDF5 wants a non-null buffer even for zero elements.
                var placeholder = UInt64(0)
                try withUnsafeMutablePointer(to: &placeholder) { empty in
                    let data = buffer.isEmpty ? UnsafeRawPointer(empty) : UnsafeRawPointer(buffer.baseAddress!)
                    try writeAttribute(name, on: path, type: T.hdf5ElementType.nativeType, space: space, data: data)
                }
            }
        }
    }

    /// Whether the object at `path` has an attribute called `name`.
    public func attributeExists(_ name: String, on path: String = "/") throws -> Bool {
        let path = normalized(path)
        return try withHDF5 {
            let file = try openID(path)
            guard linkExists(file, path) else {
                throw error(.notFound, path, "look up attribute \(name)", "no such object")
            }
            return try check(H5Aexists_by_name(file, path, name, chdf5_p_default()),
                             "look up attribute", "H5Aexists_by_name", attributePath(path, name)) > 0
        }
    }

    /// The names of the attributes of the object at `path`, sorted.
    public func attributeNames(on path: String = "/") throws -> [String] {
        let path = normalized(path)
        return try withHDF5 {
            let file = try openID(path)
            guard linkExists(file, path) else {
                throw error(.notFound, path, "list attributes", "no such object")
            }
            // The H5Aiterate family has the same signature in HDF5 1.10 and
            // 1.12+, unlike H5Oget_info.
            let box = NameList()
            var position: hsize_t = 0
            let code = withExtendedLifetime(box) {
                H5Aiterate_by_name(file, path, H5_INDEX_NAME, H5_ITER_INC, &position, { _, name, _, context in
                    guard let name, let context else { return -1 }
                    Unmanaged<NameList>.fromOpaque(context).takeUnretainedValue().names.append(String(cString: name))
                    return 0
                }, Unmanaged.passUnretained(box).toOpaque(), chdf5_p_default())
            }
            try check(code, "list attributes", "H5Aiterate_by_name", path)
            return box.names
        }
    }

    /// The string attribute `name` of the object at `path`, written either as
    /// a variable-length string (this class, h5py's `str`) or a fixed-length
    /// one (h5py's `numpy.bytes_`).
    public func stringAttribute(_ name: String, on path: String = "/") throws -> String {
        let path = normalized(path)
        return try withHDF5 {
            let location = attributePath(path, name)
            let attribute = try openAttribute(name, on: path)
            defer { _ = H5Aclose(attribute) }
            let stored = try check(H5Aget_type(attribute), "read attribute", "H5Aget_type", location)
            defer { _ = H5Tclose(stored) }
            guard H5Tget_class(stored) == H5T_STRING else {
                throw error(.wrongType, location, "read string attribute", "it holds \(describe(type: stored))")
            }
            try requireSingleValue(attribute, location)
            let memory = try check(H5Tcopy(chdf5_c_s1()), "read attribute", "H5Tcopy", location)
            defer { _ = H5Tclose(memory) }
            try check(H5Tset_cset(memory, H5Tget_cset(stored)), "read attribute", "H5Tset_cset", location)
            if H5Tis_variable_str(stored) > 0 {
                try check(H5Tset_size(memory, chdf5_variable()), "read attribute", "H5Tset_size", location)
                var pointer: UnsafeMutablePointer<CChar>? = nil
                try check(H5Aread(attribute, memory, &pointer), "read attribute", "H5Aread", location)
                defer { _ = H5free_memory(pointer) }
                guard let pointer else { return "" }
                let length = strnlen(pointer, HDF5File.stringAttributeLimit + 1)
                try requireStringLength(length, location)
                return String(cString: pointer)
            }
            // Fixed length: null-padded in memory, so a string that fills
            // every byte (h5py's default for bytes) keeps its last character.
            let size = H5Tget_size(stored)
            try requireStringLength(size, location)
            try check(H5Tset_size(memory, size), "read attribute", "H5Tset_size", location)
            try check(H5Tset_strpad(memory, H5T_STR_NULLPAD), "read attribute", "H5Tset_strpad", location)
            var bytes = [UInt8](repeating: 0, count: size)
            try check(H5Aread(attribute, memory, &bytes), "read attribute", "H5Aread", location)
            let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }

    /// The scalar numeric attribute `name` of the object at `path`; throws
    /// `.wrongType` if it was stored with another element type.
    public func attribute<T: HDF5Element>(_ name: String, on path: String = "/", as type: T.Type = T.self) throws -> T {
        let path = normalized(path)
        return try withHDF5 {
            let location = attributePath(path, name)
            let attribute = try openAttribute(name, on: path)
            defer { _ = H5Aclose(attribute) }
            try requireElementType(T.hdf5ElementType, of: .attribute(attribute), location)
            try requireSingleValue(attribute, location)
            return try withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { slot in
                try check(H5Aread(attribute, T.hdf5ElementType.nativeType, slot.baseAddress!),
                          "read attribute", "H5Aread", location)
                return slot[0]
            }
        }
    }

    /// The dimensions of attribute `name` of the object at `path`: `[]` for
    /// a scalar, `[n]` for a one-dimensional array (so a one-element array
    /// is told apart from a scalar, which `attribute(_:on:as:)` reads alike).
    public func attributeShape(_ name: String, on path: String = "/") throws -> [Int] {
        let path = normalized(path)
        return try withHDF5 {
            let location = attributePath(path, name)
            let attribute = try openAttribute(name, on: path)
            defer { _ = H5Aclose(attribute) }
            let space = try check(H5Aget_space(attribute), "read attribute shape", "H5Aget_space", location)
            defer { _ = H5Sclose(space) }
            let rank = try check(H5Sget_simple_extent_ndims(space), "read attribute shape",
                                 "H5Sget_simple_extent_ndims", location)
            var dims = [hsize_t](repeating: 0, count: Int(rank))
            if rank > 0 {
                try check(H5Sget_simple_extent_dims(space, &dims, nil), "read attribute shape",
                          "H5Sget_simple_extent_dims", location)
            }
            return dims.map { Int($0) }
        }
    }

    /// The one-dimensional numeric attribute `name` of the object at `path`;
    /// throws `.wrongType` for another element type and `.wrongShape` unless
    /// it is one-dimensional.
    public func arrayAttribute<T: HDF5Element>(_ name: String, on path: String = "/", as type: T.Type = T.self)
        throws -> [T]
    {
        let path = normalized(path)
        return try withHDF5 {
            let location = attributePath(path, name)
            let attribute = try openAttribute(name, on: path)
            defer { _ = H5Aclose(attribute) }
            try requireElementType(T.hdf5ElementType, of: .attribute(attribute), location)
            let space = try check(H5Aget_space(attribute), "read attribute", "H5Aget_space", location)
            defer { _ = H5Sclose(space) }
            let rank = try check(H5Sget_simple_extent_ndims(space), "read attribute", "H5Sget_simple_extent_ndims",
                                 location)
            guard rank == 1 else {
                throw error(.wrongShape, location, "read array attribute", "it has \(rank) dimensions, expected 1")
            }
            var length: hsize_t = 0
            try check(H5Sget_simple_extent_dims(space, &length, nil), "read attribute", "H5Sget_simple_extent_dims",
                      location)
            let count = Int(length)
            return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 {
                    try check(H5Aread(attribute, T.hdf5ElementType.nativeType, buffer.baseAddress!),
                              "read attribute", "H5Aread", location)
                }
                initialized = count
            }
        }
    }

    // MARK: Helpers (call with the lock held)

    /// The open file's id, or an error of kind `.closed`.
    private func openID(_ object: String) throws -> hid_t {
        guard id >= 0 else {
            throw error(.closed, object, "use file", "the file was closed")
        }
        return id
    }

    /// Turns a negative HDF5 return code into an `HDF5Error` for this file.
    @discardableResult
    private func check<Code: BinaryInteger>(_ code: Code, _ operation: String, _ function: String,
                                            _ object: String) throws -> Code {
        if code < 0 {
            throw Self.libraryError(path, object, operation, function)
        }
        return code
    }

    /// An error of kind `.library` carrying HDF5's own message.
    private static func libraryError(_ file: String, _ object: String, _ operation: String,
                                     _ function: String) -> HDF5Error {
        HDF5Error(kind: .library, filePath: file, objectPath: object, operation: operation,
                  function: function, detail: takeErrorDetail())
    }

    /// An error found by a check in Swift rather than by the library.
    private func error(_ kind: HDF5Error.Kind, _ object: String, _ operation: String,
                       _ detail: String) -> HDF5Error {
        HDF5Error(kind: kind, filePath: path, objectPath: object, operation: operation, detail: detail)
    }

    /// Whether every link along `path` exists. H5Lexists fails rather than
    /// answering when a parent is missing, so each prefix is tested in turn.
    private func linkExists(_ file: hid_t, _ path: String) -> Bool {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if H5Lexists(file, prefix, chdf5_p_default()) <= 0 {
                _ = H5Eclear2(chdf5_e_default())
                return false
            }
        }
        return true
    }

    /// Whether the existing object at `path` is a group or a dataset.
    private func objectKind(_ file: hid_t, _ path: String) throws -> HDF5ObjectKind {
        let object = H5Oopen(file, path, chdf5_p_default())
        if object < 0 {
            // A dangling soft or external link: there, but not openable.
            _ = H5Eclear2(chdf5_e_default())
            return .other
        }
        defer { _ = H5Oclose(object) }
        switch H5Iget_type(object) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    /// Throws `.notFound` or `.wrongType` unless a `kind` object is at `path`.
    private func requireKind(_ kind: HDF5ObjectKind, _ file: hid_t, _ path: String, _ operation: String) throws {
        guard linkExists(file, path) else {
            throw error(.notFound, path, operation, "no such \(kind)")
        }
        let found = try objectKind(file, path)
        guard found == kind else {
            throw error(.wrongType, path, operation, found == .other
                        ? "it is not a \(kind) (a link that leads nowhere, or an object this HDF5 library cannot open)"
                        : "it is a \(found), not a \(kind)")
        }
    }

    /// The longest string attribute read, in bytes. This program writes
    /// model configurations and run records of a few KB; a crafted file's
    /// 50 MB string made `inspect` print it all and a resume spend 17 s on
    /// it (issue 23), so anything past 1 MiB is refused as damaged.
    public static let stringAttributeLimit = 1 << 20

    private func requireStringLength(_ length: Int, _ location: String) throws {
        guard length <= HDF5File.stringAttributeLimit else {
            throw error(.wrongShape, location, "read string attribute",
                        "it holds more than \(HDF5File.stringAttributeLimit) bytes (damaged or not written by this program)")
        }
    }

    /// Opens the dataset at `path` after checking it exists and is a dataset.
    private func openDataset(_ path: String, _ operation: String) throws -> hid_t {
        let file = try openID(path)
        try requireKind(.dataset, file, path, operation)
        return try check(H5Dopen2(file, path, chdf5_p_default()), operation, "H5Dopen2", path)
    }

    /// The dimensions of an open dataset.
    ///
    /// The sizes come from the file, and callers allocate what they say:
    /// throws `.wrongShape` when their product overflows, or when the
    /// dataset claims far more bytes than the file stores for it (gzip
    /// shrinks data at most about 1032 times; 1 MiB is allowed whatever is
    /// stored), so that a few damaged bytes cannot ask for terabytes
    /// (found by fuzzing, issue 12).
    private func shapeOf(dataset: hid_t, _ path: String, _ operation: String) throws -> [Int] {
        let space = try check(H5Dget_space(dataset), operation, "H5Dget_space", path)
        defer { _ = H5Sclose(space) }
        let rank = try check(H5Sget_simple_extent_ndims(space), operation, "H5Sget_simple_extent_ndims", path)
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        if rank > 0 {
            try check(H5Sget_simple_extent_dims(space, &dims, nil), operation, "H5Sget_simple_extent_dims", path)
        }
        let type = try check(H5Dget_type(dataset), operation, "H5Dget_type", path)
        var bytes = UInt64(H5Tget_size(type))
        _ = H5Tclose(type)
        for size in dims {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: size)
            guard !overflow, product <= UInt64(Int.max) else {
                throw error(.wrongShape, path, operation, "its shape \(dims) holds more values than memory can")
            }
            bytes = product
        }
        var fileSize: hsize_t = 0
        try check(H5Fget_filesize(try openID(path), &fileSize), operation, "H5Fget_filesize", path)
        let stored = min(H5Dget_storage_size(dataset), fileSize)
        guard bytes <= 1 << 20 || bytes / 1100 <= stored else {
            throw error(.wrongShape, path, operation,
                        "its shape \(dims) needs \(bytes) bytes but the file stores \(stored) for it (unwritten or damaged)")
        }
        // HDF5 1.10 reads a compact dataset (values kept in its header) from
        // a buffer of the size stored, whatever the shape says: a mismatch
        // crashed H5Dread (found by fuzzing, issue 12).
        let creation = try check(H5Dget_create_plist(dataset), operation, "H5Dget_create_plist", path)
        let layout = H5Pget_layout(creation)
        let externalFiles = H5Pget_external_count(creation)
        _ = H5Pclose(creation)
        // External storage and virtual datasets keep their values in other
        // files named inside this one: reading them would read whatever
        // those names point to (any file the reader may open), so a data
        // file or checkpoint must hold its own values (issue 23).
        guard externalFiles == 0, layout != H5D_VIRTUAL else {
            throw error(.wrongType, path, operation,
                        "its values are stored in other files (HDF5 external or virtual storage), which is not read")
        }
        guard layout != H5D_COMPACT || stored == bytes else {
            throw error(.wrongShape, path, operation,
                        "its shape \(dims) needs \(bytes) bytes but its compact storage holds \(stored) (damaged)")
        }
        return dims.map { Int($0) }
    }

    /// A scalar dataspace for an empty shape, otherwise a simple one.
    private func dataspace(shape: [Int], _ object: String) throws -> hid_t {
        if shape.isEmpty {
            return try check(H5Screate(H5S_SCALAR), "make dataspace", "H5Screate", object)
        }
        let dims = shape.map { hsize_t($0) }
        return try check(H5Screate_simple(Int32(dims.count), dims, nil), "make dataspace", "H5Screate_simple",
                         object)
    }

    /// A link-creation list that creates missing parent groups.
    private func intermediateGroupsList(_ object: String) throws -> hid_t {
        let links = try check(H5Pcreate(chdf5_p_link_create()), "make link list", "H5Pcreate", object)
        if H5Pset_create_intermediate_group(links, 1) < 0 {
            let failure = Self.libraryError(path, object, "make link list", "H5Pset_create_intermediate_group")
            _ = H5Pclose(links)
            throw failure
        }
        return links
    }

    /// The string type h5py reads as `str`: variable length, UTF-8.
    private func utf8StringType(_ path: String, _ name: String) throws -> hid_t {
        let object = attributePath(path, name)
        let type = try check(H5Tcopy(chdf5_c_s1()), "set attribute", "H5Tcopy", object)
        if H5Tset_size(type, chdf5_variable()) < 0 || H5Tset_cset(type, H5T_CSET_UTF8) < 0 {
            let failure = Self.libraryError(path, object, "set attribute", "H5Tset_size/H5Tset_cset")
            _ = H5Tclose(type)
            throw failure
        }
        return type
    }

    /// Creates (or replaces) attribute `name` on the object at `path` and
    /// writes `data`, laid out as `type` over `space`.
    private func writeAttribute(_ name: String, on path: String, type: hid_t, space: hid_t,
                                data: UnsafeRawPointer) throws {
        let object = attributePath(path, name)
        let file = try openID(object)
        guard linkExists(file, path) else {
            throw error(.notFound, path, "set attribute \(name)", "no such object")
        }
        if try check(H5Aexists_by_name(file, path, name, chdf5_p_default()), "set attribute",
                     "H5Aexists_by_name", object) > 0 {
            try check(H5Adelete_by_name(file, path, name, chdf5_p_default()), "replace attribute",
                      "H5Adelete_by_name", object)
        }
        let attribute = try check(
            H5Acreate_by_name(file, path, name, type, space, chdf5_p_default(), chdf5_p_default(),
                              chdf5_p_default()),
            "create attribute", "H5Acreate_by_name", object)
        defer { _ = H5Aclose(attribute) }
        try check(H5Awrite(attribute, type, data), "write attribute", "H5Awrite", object)
    }

    /// Opens attribute `name` on the object at `path`, or throws `.notFound`.
    private func openAttribute(_ name: String, on path: String) throws -> hid_t {
        let object = attributePath(path, name)
        let file = try openID(object)
        guard linkExists(file, path) else {
            throw error(.notFound, path, "read attribute \(name)", "no such object")
        }
        guard try check(H5Aexists_by_name(file, path, name, chdf5_p_default()), "read attribute",
                        "H5Aexists_by_name", object) > 0 else {
            throw error(.notFound, object, "read attribute", "no such attribute")
        }
        return try check(H5Aopen_by_name(file, path, name, chdf5_p_default(), chdf5_p_default()),
                         "read attribute", "H5Aopen_by_name", object)
    }

    /// Throws `.wrongShape` unless the attribute holds exactly one value.
    private func requireSingleValue(_ attribute: hid_t, _ object: String) throws {
        let space = try check(H5Aget_space(attribute), "read attribute", "H5Aget_space", object)
        defer { _ = H5Sclose(space) }
        let count = try check(H5Sget_simple_extent_npoints(space), "read attribute",
                              "H5Sget_simple_extent_npoints", object)
        guard count == 1 else {
            throw error(.wrongShape, object, "read attribute", "it holds \(count) values, expected 1")
        }
    }

    /// Throws `.wrongType` unless the stored type of a dataset or attribute is `expected`.
    private func requireElementType(_ expected: HDF5ElementType, of typed: TypedObject, _ object: String) throws {
        let (stored, operation) = switch typed {
        case .dataset(let id): (try check(H5Dget_type(id), "read dataset", "H5Dget_type", object), "read dataset")
        case .attribute(let id): (try check(H5Aget_type(id), "read attribute", "H5Aget_type", object), "read attribute")
        }
        defer { _ = H5Tclose(stored) }
        let found = describe(type: stored)
        guard found == expected.rawValue else {
            throw error(.wrongType, object, operation, "it holds \(found), expected \(expected.rawValue)")
        }
    }
}

/// An open dataset or attribute, whose stored type can be asked for.
private enum TypedObject {
    case dataset(hid_t)
    case attribute(hid_t)
}

/// A stored type in words, spelled like `HDF5ElementType`'s raw values for
/// the numeric types so that a match is a string comparison.
private func describe(type: hid_t) -> String {
    let bits = H5Tget_size(type) * 8
    switch H5Tget_class(type) {
    case H5T_FLOAT: return "float\(bits)"
    case H5T_INTEGER: return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + "\(bits)"
    case H5T_STRING: return H5Tis_variable_str(type) > 0 ? "a variable-length string" : "a fixed-length string"
    case H5T_COMPOUND: return "a compound type"
    case H5T_ARRAY: return "an array type"
    case H5T_ENUM: return "an enum type"
    default: return "an unsupported type"
    }
}

/// `path` with exactly one leading slash and no empty components, so
/// "optimizer//m/" and "/optimizer/m" name the same object.
private func normalized(_ path: String) -> String {
    "/" + path.split(separator: "/").joined(separator: "/")
}

/// `name` inside the group `group`.
private func joined(_ group: String, _ name: String) -> String {
    group == "/" ? "/" + name : group + "/" + name
}

/// How errors name an attribute: object path, '@', attribute name.
private func attributePath(_ path: String, _ name: String) -> String {
    path + "@" + name
}

