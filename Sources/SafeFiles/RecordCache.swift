import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small results kept between runs under a key, in files of their own in
/// one directory (`$SWIFTDDP_CACHE_DIR`, else `$XDG_CACHE_HOME/swiftddp`,
/// else `~/.cache/swiftddp`), for work over large files that need not be
/// done again while the files stay the same (`FileIdentity` in the key):
/// the structure check of a large HDF5 file, the checksum of a data set.
///
/// Best effort by design: a record that cannot be read is work done again,
/// one that cannot be written is only not kept. A record is a file named
/// after a hash of its key, holding the key itself (so that two keys with
/// one hash never answer for each other) and the value; it is written to a
/// temporary name and renamed, so a reader sees a whole record or none.
public struct RecordCache: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The cache in `defaultDirectory`, or nil when no home is known.
    public static var shared: RecordCache? {
        defaultDirectory.map { RecordCache(directory: $0 + "/records") }
    }

    /// `$SWIFTDDP_CACHE_DIR`, else `$XDG_CACHE_HOME/swiftddp`, else
    /// `$HOME/.cache/swiftddp`; nil when none of them is set.
    public static var defaultDirectory: String? {
        let environment = ProcessInfo.processInfo.environment
        if let own = environment["SWIFTDDP_CACHE_DIR"], !own.isEmpty { return own }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/swiftddp" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.cache/swiftddp" }
        return nil
    }

    /// The value kept for `key`, or nil.
    public func value(for key: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path(for: key)),
              let text = String(data: data, encoding: .utf8),
              let newline = text.firstIndex(of: "\n"), text[..<newline] == key else { return nil }
        return String(text[text.index(after: newline)...])
    }

    /// Keeps `value` for `key`; a failure is ignored (the work is done again next time).
    public func store(_ value: String, for key: String) {
        guard !key.contains("\n"), (try? createDirectories(at: directory)) != nil else { return }
        // A temporary of this process's own: two processes keeping the same
        // record must not write into one temporary file.
        let destination = path(for: key)
        let temporary = destination + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        do {
            try writeFile(Array((key + "\n" + value).utf8), to: temporary)
            try durableReplace(temporary: temporary, destination: destination)
        } catch {
            _ = unlink(temporary)
        }
    }

    /// `directory/HASH` (`fileName(for:)`).
    func path(for key: String) -> String {
        directory + "/" + Self.fileName(for: key)
    }

    /// The 64-bit FNV-1a hash of `key` as 16 hex digits: a file name for
    /// it, not a defence against anyone.
    public static func fileName(for key: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
