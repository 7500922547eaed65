import Foundation

#if canImport(Glibc)
import Glibc
#endif

// What the no-follow tests of the checkpoint and training writers share: a
// victim file and the links another user of a shared directory can plant.

/// How a link is planted at a name a writer is about to use.
public enum PlantedLink: CaseIterable, Sendable {
    case symbolic, hard
}

/// A victim file (mode 0600, known bytes) outside the written directory, and
/// links to it planted in that directory: what another user of a shared
/// directory can do. Every writer must leave the victim as it was.
public struct Victim {
    public static let contents = "victim: must never be written through a link\n"
    public let path: String

    public init(in scratch: URL) throws {
        path = scratch.appendingPathComponent("victim-\(UUID().uuidString)").path
        try Data(Self.contents.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
    }

    /// Plants a link of `kind` to the victim at `name`.
    public func plant(_ kind: PlantedLink, at name: String) throws {
        switch kind {
        case .symbolic: try FileManager.default.createSymbolicLink(atPath: name, withDestinationPath: path)
        case .hard: try FileManager.default.linkItem(atPath: path, toPath: name)
        }
    }

    /// Whether the victim still holds exactly what it was given.
    public var isUnchanged: Bool {
        (try? String(contentsOfFile: path, encoding: .utf8)) == Self.contents
    }
}

/// Whether `path` itself (not what it links to) is a regular file with one name.
public func isOwnRegularFile(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && info.st_nlink == 1
}

