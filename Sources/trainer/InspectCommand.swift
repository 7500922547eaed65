import ArgumentParser
import Checkpoint
import Foundation

/// `trainer inspect PATH`: what a checkpoint holds and whether it is intact.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's metadata, tensors with shapes and checksums, optimizer state, and whether it is valid.")

    @Argument(help: "A checkpoint file (ckpt-<step>.h5) or a checkpoint directory (its newest checkpoint).")
    var path: String

    func run() throws {
        var file = path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            guard let latest = CheckpointDirectory(path).latest() else {
                throw ValidationError("\(path) holds no checkpoint")
            }
            file = CheckpointDirectory(path).path(of: latest)
        }
        let report = CheckpointInspector.report(path: file)
        print(report)
        // The exit code says whether the file can be resumed from.
        do {
            _ = try CheckpointFile.read(file)
        } catch {
            throw ExitCode(1)
        }
    }
}
