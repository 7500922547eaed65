import Foundation
import Synchronization

/// Ends the process when training stops making progress.
///
/// MPI never notices a hung collective or a stuck rank: every other rank
/// just waits. A background thread checks that the training loop reported
/// progress within `timeout` seconds; if not, it calls `onTimeout` (which
/// prints why and aborts the whole MPI job), so a launcher can restart it
/// from the last checkpoint.
public final class Watchdog: Sendable {
    private let lastProgressNanoseconds: Atomic<UInt64>
    private let step = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    public let timeout: Double

    /// Starts watching; `onTimeout(step, seconds)` runs on the watchdog thread.
    public init(timeout: Double, onTimeout: @escaping @Sendable (_ step: Int, _ seconds: Double) -> Void) {
        self.timeout = timeout
        lastProgressNanoseconds = Atomic(DispatchTime.now().uptimeNanoseconds)
        let thread = Thread { [self] in
            let interval = min(max(timeout / 10, 0.05), 1)
            while !stopped.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: interval)
                let idle = Double(DispatchTime.now().uptimeNanoseconds - lastProgressNanoseconds.load(ordering: .relaxed)) / 1e9
                if idle > timeout && !stopped.load(ordering: .relaxed) {
                    onTimeout(step.load(ordering: .relaxed), idle)
                    return
                }
            }
        }
        thread.name = "watchdog"
        thread.start()
    }

    /// The loop is alive and about to work on `step`.
    public func progress(step current: Int) {
        step.store(current, ordering: .relaxed)
        lastProgressNanoseconds.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
    }

    /// Stops watching (the thread exits at its next check).
    public func stop() { stopped.store(true, ordering: .relaxed) }

    deinit { stop() }
}
