import ArgumentParser
import Checkpoint
import Foundation

/// `trainer inspect PATH`: what a checkpoint holds and whether it is intact.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's metadata, tensors with shapes and checksums, optimizer state, and whether it is valid.")

    @Argument(help: "A checkpoint file (ckpt-<step>.h5) or a checkpoint directory (its newest valid checkpoint, the one --resume auto takes).")
    var path: String

    func run() throws {
        var file = path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            // The rule --resume auto uses: the newest checkpoint that verifies,
            // whatever the `latest` pointer says.
            let search = try CheckpointDirectory.latestValid(in: path)
            for skipped in search.skipped { print("skipping \(skipped.path): \(skipped.reason)") }
            if let found = search.checkpoint {
                file = found.path
            } else if let newest = try CheckpointDirectory(path).checkpoints().last {
                file = newest.path  // none verifies: show the newest, and exit 1
            } else {
                throw ValidationError("\(path) holds no checkpoint")
            }
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
