import Foundation

/// Shows training progress: a redrawn bar on a terminal, plain log lines
/// when the output is a file or a pipe, one every `lineInterval` seconds at
/// most. (Ten per epoch, as before, gave 3,300 lines to a run of 300 short
/// epochs; a log should grow with time, not with epochs. Each epoch's
/// result line is printed apart from these.)
public final class ProgressReporter {
    private let isTerminal: Bool
    private let enabled: Bool
    private var lastDraw = 0.0
    private var lastLine: Double?
    /// Seconds between two plain progress lines.
    public static let lineInterval = 10.0

    /// `enabled` is false on every rank but 0.
    ///
    /// The bar is drawn when stdout is a terminal, except under mpirun, which
    /// gives every rank a pseudo-terminal even when its own output goes to a
    /// file: there the environment variable TRAINER_PROGRESS (`bar` or
    /// `lines`, set by `./launch` from its own stdout) decides, and plain
    /// lines are the default.
    public init(enabled: Bool = true) {
        self.enabled = enabled
        let environment = ProcessInfo.processInfo.environment
        switch environment["TRAINER_PROGRESS"] {
        case "bar": isTerminal = true
        case "lines": isTerminal = false
        default:
            let underMPIRun = environment["OMPI_COMM_WORLD_SIZE"] != nil
            isTerminal = !underMPIRun && isatty(STDOUT_FILENO) == 1
        }
    }

    /// Prints a message line (always a whole line).
    public func log(_ message: String) {
        guard enabled else { return }
        if isTerminal { print("\r\u{1B}[2K", terminator: "") }
        print(message)
        fflush(nil)  // nil flushes stdout without touching the C global
    }

    /// Reports step `step` of `total` in `epoch`.
    public func update(epoch: Int, epochs: Int, step: Int, total: Int, loss: Float,
                       samplesPerSecond: Double, elapsed: Double) {
        guard enabled else { return }
        let remaining = step > 0 ? elapsed / Double(step) * Double(total - step) : 0
        if isTerminal {
            let now = Date().timeIntervalSinceReferenceDate
            guard now - lastDraw > 0.1 || step == total else { return }
            lastDraw = now
            let width = 30
            let filled = total > 0 ? width * step / total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            print("\r\u{1B}[2Kepoch \(epoch)/\(epochs) |\(bar)| \(step)/\(total) loss \(format(loss, 4)) "
                  + "\(Int(samplesPerSecond)) samples/s ETA \(formatDuration(remaining))", terminator: "")
            fflush(nil)  // nil flushes stdout without touching the C global
        } else {
            let now = Date().timeIntervalSinceReferenceDate
            // The first line comes one interval into the run, not at its first step.
            guard let last = lastLine else { lastLine = now; return }
            guard now - last >= Self.lineInterval else { return }
            lastLine = now
            print("epoch \(epoch)/\(epochs) step \(step)/\(total) loss \(format(loss, 4)) "
                  + "\(Int(samplesPerSecond)) samples/s ETA \(formatDuration(remaining))")
            fflush(nil)  // nil flushes stdout without touching the C global
        }
    }
}

/// `value` with `digits` decimals.
package func format(_ value: Float, _ digits: Int) -> String { String(format: "%.\(digits)f", Double(value)) }
package func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

/// 75.0 -> "1m15s".
package func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
}
