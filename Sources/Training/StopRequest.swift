import Dispatch
import Foundation
import Synchronization

/// SIGTERM and SIGINT (preemption, Ctrl-C) turned into a request that the
/// training loop checks between steps: it finishes the current step, writes
/// a checkpoint and exits 0, instead of dying mid-step.
public final class StopRequest {
    /// The received signal, shared with the handlers (which run on a Dispatch queue).
    private final class Flag: Sendable {
        let signalNumber = Atomic<Int32>(0)
    }

    private let flag = Flag()
    private let sources: [any DispatchSourceSignal]

    /// Installs handlers for `signals`; the default action (termination) is
    /// replaced for as long as this object lives.
    public init(signals: [Int32] = [SIGTERM, SIGINT]) {
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            sources.append(source)
        }
        self.sources = sources
        for (source, number) in zip(sources, signals) {
            source.setEventHandler { [flag] in flag.signalNumber.store(number, ordering: .relaxed) }
            source.resume()
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    /// The signal received, or nil.
    public var received: Int32? {
        let number = flag.signalNumber.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }

    /// A readable name for a signal number.
    public static func name(of number: Int32) -> String {
        switch number {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        default: "signal \(number)"
        }
    }
}
