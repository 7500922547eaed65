import Foundation
import SafeFiles
import TrainingErrors

/// The data set indices a rank trained on, appended as little-endian int32
/// (`--record-samples`): tests compare them across world sizes.
package final class SampleLog {
    let path: String
    private let handle: FileHandle

    package init(path: String) throws {
        self.path = path
        // Never through a link planted at the name (`openForAppending(at:mode:)`).
        do {
            handle = FileHandle(fileDescriptor: try openForAppending(at: path), closeOnDealloc: true)
        } catch {
            throw TrainingError.cannotWrite(path: path, reason: "\(error) (--record-samples)")
        }
    }

    deinit { try? handle.close() }

    package func append(_ indices: [Int]) throws {
        var bytes = Data(capacity: indices.count * 4)
        for index in indices { withUnsafeBytes(of: Int32(index).littleEndian) { bytes.append(contentsOf: $0) } }
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw TrainingError.cannotWrite(path: path, reason: error.localizedDescription)
        }
    }
}
