import Foundation
import RunLog
import TensorCore

/// What the bits of a run depend on besides its inputs and options: the
/// BLAS kernel, the CPU, and the executable. Deterministic mode gives the
/// same bits at any world size on machines that agree on all three; another
/// CPU model makes OpenBLAS (and the convolution kernels) pick other code
/// that adds in another order. Checkpoints record it, and resuming where it
/// differs says so.
public struct Provenance: Sendable, Equatable {
    /// OpenBLAS's kernel name and its build description.
    public var blas: String
    /// The CPU's model name (/proc/cpuinfo).
    public var cpu: String
    /// The running executable's GNU build ID (hex), "unknown" without one.
    public var build: String

    /// This process's.
    public static let current = Provenance(blas: "\(BLAS.coreName) (\(BLAS.configuration))", cpu: cpuModel(),
                                           build: buildID() ?? "unknown")

    /// As `/extra` attributes of a checkpoint.
    public var extras: [String: String] { ["bits_blas": blas, "bits_cpu": cpu, "bits_build": build] }

    /// From a checkpoint's extras; nil for a checkpoint that predates them.
    public init?(extras: [String: String]) {
        guard let blas = extras["bits_blas"], let cpu = extras["bits_cpu"], let build = extras["bits_build"] else { return nil }
        self.init(blas: blas, cpu: cpu, build: build)
    }

    public init(blas: String, cpu: String, build: String) {
        (self.blas, self.cpu, self.build) = (blas, cpu, build)
    }

    /// One phrase per field that differs from `other` (the checkpoint's).
    public func differences(from other: Provenance) -> [String] {
        var out: [String] = []
        if blas != other.blas { out.append("BLAS \(other.blas) then, \(blas) now") }
        if cpu != other.cpu { out.append("CPU \(other.cpu) then, \(cpu) now") }
        if build != other.build { out.append("executable build \(other.build) then, \(build) now") }
        return out
    }

    private static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    /// The NT_GNU_BUILD_ID note of the running executable, read from the
    /// ELF program headers of /proc/self/exe.
    private static func buildID() -> String? {
        guard let file = FileHandle(forReadingAtPath: "/proc/self/exe") else { return nil }
        defer { try? file.close() }
        func read(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            guard (try? file.seek(toOffset: offset)) != nil, let data = try? file.read(upToCount: count),
                  data.count == count else { return nil }
            return [UInt8](data)
        }
        func integer(_ bytes: [UInt8], _ at: Int, _ size: Int) -> UInt64 {
            (0..<size).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * $1) }  // little-endian
        }
        // ELF64, little-endian: e_phoff at 32, e_phentsize at 54, e_phnum at 56.
        guard let header = read(0, 64), header[0..<4] == [0x7f, 0x45, 0x4c, 0x46], header[4] == 2, header[5] == 1 else {
            return nil
        }
        let (phoff, phentsize, phnum) = (integer(header, 32, 8), Int(integer(header, 54, 2)), Int(integer(header, 56, 2)))
        guard phentsize >= 56, let table = read(phoff, phentsize * phnum) else { return nil }
        for i in 0..<phnum {
            let at = i * phentsize
            guard integer(table, at, 4) == 4 else { continue }  // PT_NOTE
            let (offset, size) = (integer(table, at + 8, 8), Int(integer(table, at + 32, 8)))
            guard size < 1 << 20, let notes = read(offset, size) else { continue }
            var n = 0
            while n + 12 <= notes.count {
                let nameSize = Int(integer(notes, n, 4)), descSize = Int(integer(notes, n + 4, 4))
                let type = integer(notes, n + 8, 4)
                let desc = n + 12 + (nameSize + 3) & ~3
                guard desc + descSize <= notes.count else { break }
                if type == 3 && nameSize == 4 && notes[n + 12..<n + 15] == [0x47, 0x4e, 0x55] {  // NT_GNU_BUILD_ID, "GNU"
                    return notes[desc..<desc + descSize].map { String(format: "%02x", $0) }.joined()
                }
                n = desc + (descSize + 3) & ~3
            }
        }
        return nil
    }
}
