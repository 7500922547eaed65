import Foundation

/// The data set indices a rank trained on, appended as little-endian int32
/// (`--record-samples`): tests compare them across world sizes.
final class SampleLog {
    let path: String
    private let handle: FileHandle

    init(path: String) throws {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw TrainingError.cannotWrite(path: path, reason: "cannot create the file (--record-samples)")
            }
        }
        do {
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.seekToEnd()
        } catch {
            throw TrainingError.cannotWrite(path: path, reason: "\(error.localizedDescription) (--record-samples)")
        }
    }

    deinit { try? handle.close() }

    func append(_ indices: [Int]) throws {
        var bytes = Data(capacity: indices.count * 4)
        for index in indices { withUnsafeBytes(of: Int32(index).littleEndian) { bytes.append(contentsOf: $0) } }
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw TrainingError.cannotWrite(path: path, reason: error.localizedDescription)
        }
    }
}
