import SafeFiles

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the damage to a superblock and to HDF5 heaps that makes the HDF5 library (1.10,
/// Debian's) loop forever, read past its buffer or crash, so that
/// `HDF5File.open` can refuse such a file before the library touches it.
///
/// Local heaps (the names of a group's links in old-style groups) are
/// `HEAP`, version 0, 3 reserved bytes, the data segment's size (8 bytes),
/// the free list's offset (8) and the data segment's address (8). The
/// library allocates the size a heap claims and copies the segment into it
/// without checking the allocation (H5HL_protect): a damaged size of
/// exabytes fails the malloc and the copy writes to address 0 (a segfault
/// found by fuzzing), and so does a segment that overlaps the heap's own
/// header. A heap is judged damaged when its segment cannot lie inside the
/// file or overlaps its header.
///
/// Variable-length strings (every string attribute of a checkpoint) live in
/// global heap collections, which carry no checksum. Each collection is
/// `GCOL`, version 1, 3 reserved bytes, its size (8 bytes, little-endian),
/// then objects: index (2 bytes), reference count (2), reserved (4), size
/// (8), data padded to 8 bytes; object 0 is the free space and its size
/// includes its own header. Reading a collection, the library steps from
/// object to object by their sizes (H5HG__cache_heap_deserialize): a free
/// space of size 0 is a step of 0 bytes, forever (found by fuzzing, issue
/// 12), and an object larger than what is left of its collection is later
/// copied from beyond the buffer.
///
/// The library does not say where a file's collections are, so the file
/// is searched for their signature, and a collection is judged only when
/// it parses as the library would parse it (version 1, at least 4096
/// bytes, inside the file), as files with the default 8-byte lengths do.
enum StructureCheck {
    /// Files from this size on have their sound verdict remembered
    /// (`RecordCache`) under their identity: a scan of a 1.9 GB `--data`
    /// file took a second at every start, in every rank (issue 21), while
    /// a checkpoint's takes a millisecond.
    static let rememberedSize = 64 << 20

    /// `damage(inFileAt:)`, or nil at once for a large file found sound
    /// before and unchanged since.
    static func rememberedDamage(inFileAt path: String) -> String? {
        guard let identity = FileIdentity(path: path), identity.size >= rememberedSize, let cache = RecordCache.shared else {
            return damage(inFileAt: path)
        }
        let key = "hdf5-structure-1|\(identity)"
        if cache.value(for: key) == "sound" { return nil }
        let found = damage(inFileAt: path)
        // Under the identity taken before the scan: a file written meanwhile has another.
        if found == nil { cache.store("sound", for: key) }
        return found
    }

    /// What is wrong with the first damaged collection in the file at
    /// `path`, or nil if none is (or the file cannot be read: opening it
    /// reports that).
    static func damage(inFileAt path: String) -> String? {
        // O_NONBLOCK: opening a FIFO must not wait for a writer (HDF5File.open refuses it after).
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        if let problem = superblockDamage(descriptor) ?? rootGroupDamage(descriptor) { return problem }
        let chunk = 1 << 20
        // Consecutive reads overlap by 3 bytes, so each 4-byte window lies
        // wholly inside exactly one of them.
        let step = chunk - 3
        var buffer = [UInt8](repeating: 0, count: chunk)
        var offset = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, chunk, off_t(offset)) }
            guard count >= 4 else { return nil }
            // The first signature of either kind in this read whose structure is
            // damaged, in file order. memchr finds the candidates: a --data file
            // is mostly samples, and a byte-by-byte loop over gigabytes took
            // seconds at every start (issue 21).
            var first: (position: Int, problem: String)?
            buffer.withUnsafeBytes { bytes in
                let base = bytes.baseAddress!
                for (signature, check) in [(Array("GCOL".utf8), collectionDamage), (Array("HEAP".utf8), localHeapDamage)] {
                    var position = 0
                    while position + 4 <= count, first.map({ position < $0.position }) ?? true {
                        guard let hit = memchr(base + position, Int32(signature[0]), count - 3 - position) else { break }
                        position = UnsafeRawPointer(hit) - base
                        if bytes[position + 1] == signature[1], bytes[position + 2] == signature[2],
                           bytes[position + 3] == signature[3], let problem = check(descriptor, offset + position) {
                            if first.map({ position < $0.position }) ?? true { first = (position, problem) }
                            break
                        }
                        position += 1
                    }
                }
            }
            if let first { return first.problem }
            guard count == chunk else { return nil }
            offset += step
        }
    }

    /// The damage of the collection whose signature is at byte `start`, or
    /// nil when it is sound or not a collection the library would read.
    private static func collectionDamage(_ descriptor: Int32, at start: Int) -> String? {
        let headerSize = 16, objectHeaderSize = 16, minimumSize = 4096
        var header = [UInt8](repeating: 0, count: headerSize)
        let got = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, headerSize, off_t(start)) }
        guard got == headerSize, header[4] == 1 else { return nil }
        let size = littleEndian(header, at: 8)
        var info = stat()
        guard fstat(descriptor, &info) == 0, size >= UInt64(minimumSize),
              size <= UInt64(max(0, Int(info.st_size) - start)) else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let read = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, Int(size), off_t(start)) }
        guard read == Int(size) else { return nil }
        let end = UInt64(size)
        var position = UInt64(headerSize)
        while position < end {
            // Too little left for an object header: the library takes it as free space.
            if position + UInt64(objectHeaderSize) > end { break }
            let index = Int(bytes[Int(position)]) | Int(bytes[Int(position) + 1]) << 8
            let objectSize = littleEndian(bytes, at: Int(position) + 8)
            let left = end - position
            let object = "global heap collection at byte \(start): object \(index) at byte \(start + Int(position))"
            if index == 0 {
                guard objectSize > 0 else {
                    return "\(object) (free space) has size 0, which the HDF5 library would step over forever"
                }
                guard objectSize <= left else {
                    return "\(object) (free space) has size \(objectSize) but \(left) bytes of the collection are left"
                }
                position += objectSize
            } else {
                guard objectSize <= left - UInt64(objectHeaderSize) else {
                    return "\(object) has size \(objectSize) but \(left - UInt64(objectHeaderSize)) bytes of the collection are left"
                }
                position += UInt64(objectHeaderSize) + (objectSize + 7) / 8 * 8
            }
        }
        return nil
    }

    /// A superblock at byte 0 whose base address (what every address in the
    /// file is relative to) is not 0: the library then reads every object
    /// from beyond the end of the file, and a heap lookup copies to address 0
    /// (a segfault found by fuzzing). Files with a user block, whose
    /// superblock starts later, are left to the library.
    private static func superblockDamage(_ descriptor: Int32) -> String? {
        var header = [UInt8](repeating: 0, count: 32)
        let got = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 32, 0) }
        guard got == 32, Array(header[0..<8]) == superblockSignature else { return nil }
        // Versions 0 and 1 keep the base address at byte 24, 2 and 3 at byte 12
        // (both after the sizes of offsets and lengths, which must be 8 here).
        let version = header[8]
        let at: Int
        switch version {
        case 0, 1: guard header[13] == 8 else { return nil }; at = 24
        case 2, 3: guard header[9] == 8 else { return nil }; at = 12
        default: return nil
        }
        let base = littleEndian(header, at: at)
        return base == 0 ? nil : "the superblock (version \(version)) gives a base address of \(base), not 0: every object "
            + "would be read from beyond the file"
    }

    /// What is wrong with the root group's symbol table, in a file with a
    /// version-0 superblock (h5py's default): the B-tree and the local heap
    /// its message names must be a B-tree and a heap inside the file. Given
    /// the undefined address (all ones), the library reads the heap 512
    /// bytes at a time from an address that wraps around, and copies from
    /// address 0 (a segfault in H5F__accum_read found by fuzzing). Only the
    /// first block of the root's version-1 object header is searched; a
    /// file laid out otherwise is left to the library.
    private static func rootGroupDamage(_ descriptor: Int32) -> String? {
        func read(_ count: Int, at offset: UInt64) -> [UInt8]? {
            guard offset <= UInt64(Int.max - count) else { return nil }
            var bytes = [UInt8](repeating: 0, count: count)
            let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(offset)) }
            return got == count ? bytes : nil
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, let superblock = read(72, at: 0), Array(superblock[0..<8]) == superblockSignature,
              superblock[8] == 0, superblock[13] == 8, superblock[14] == 8 else { return nil }
        let headerAddress = littleEndian(superblock, at: 64)  // the root symbol table entry's object header
        let fileSize = UInt64(max(0, Int(info.st_size)))
        guard headerAddress < fileSize, let prefix = read(16, at: headerAddress), prefix[0] == 1 else { return nil }
        let messages = Int(prefix[2]) | Int(prefix[3]) << 8
        let size = Int(littleEndian(prefix + [0, 0, 0, 0], at: 8) & 0xffff_ffff)
        guard size <= 1 << 16, let block = read(size, at: headerAddress + 16) else { return nil }
        var position = 0
        for _ in 0..<messages {
            guard position + 8 <= block.count else { return nil }
            let type = Int(block[position]) | Int(block[position + 1]) << 8
            let length = Int(block[position + 2]) | Int(block[position + 3]) << 8
            guard position + 8 + length <= block.count else { return nil }
            if type == 0x11 && length >= 16 {  // the symbol table message: v1 B-tree address, local heap address
                let tree = littleEndian(block, at: position + 8), heap = littleEndian(block, at: position + 16)
                guard read(4, at: tree) == Array("TREE".utf8), read(4, at: heap) == Array("HEAP".utf8) else {
                    return "the root group's symbol table names a B-tree at address \(tree) and a local heap at address "
                        + "\(heap), which the file's \(fileSize) bytes do not hold there"
                }
                return nil
            }
            position += 8 + length
        }
        return nil
    }

    /// The damage of the local heap whose signature is at byte `start`, or
    /// nil when its data segment fits in the file (or it is not a heap).
    private static func localHeapDamage(_ descriptor: Int32, at start: Int) -> String? {
        let headerSize = 32
        var header = [UInt8](repeating: 0, count: headerSize)
        let got = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, headerSize, off_t(start)) }
        guard got == headerSize, header[4] == 0, header[5] == 0, header[6] == 0, header[7] == 0 else { return nil }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        let fileSize = UInt64(max(0, Int(info.st_size)))
        let size = littleEndian(header, at: 8), address = littleEndian(header, at: 24)
        if size > fileSize || address > fileSize || size > fileSize - address {
            return "local heap at byte \(start) claims a data segment of \(size) bytes at address \(address), "
                + "beyond the file's \(fileSize) bytes"
        }
        // The segment follows the header or lies elsewhere; one that overlaps
        // the header sends the library down a path that copies to address 0.
        if address < UInt64(start + headerSize) && address + size > UInt64(start) {
            return "local heap at byte \(start) has its data segment (\(size) bytes at address \(address)) overlapping its own header"
        }
        return nil
    }

    /// The superblock's signature, at byte 0 unless a user block comes
    /// first (such files are left to the library).
    private static let superblockSignature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]

    private static func littleEndian(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }
}
