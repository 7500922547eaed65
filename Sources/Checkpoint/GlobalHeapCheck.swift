#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the damage to HDF5 global heap collections that makes the HDF5
/// library (1.10, Debian's) loop forever or read past its buffer, so that
/// `HDF5File.open` can refuse such a file before the library touches it.
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
enum GlobalHeapCheck {
    /// What is wrong with the first damaged collection in the file at
    /// `path`, or nil if none is (or the file cannot be read: opening it
    /// reports that).
    static func damage(inFileAt path: String) -> String? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let chunk = 1 << 20
        // Consecutive reads overlap by 3 bytes, so each 4-byte window lies
        // wholly inside exactly one of them.
        let step = chunk - 3
        var buffer = [UInt8](repeating: 0, count: chunk)
        var offset = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, chunk, off_t(offset)) }
            guard count >= 4 else { return nil }
            var position = 0
            while position + 4 <= count {
                if buffer[position] == 0x47, buffer[position + 1] == 0x43, buffer[position + 2] == 0x4F,
                   buffer[position + 3] == 0x4C,  // "GCOL"
                   let problem = collectionDamage(descriptor, at: offset + position) {
                    return problem
                }
                position += 1
            }
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

    private static func littleEndian(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }
}
