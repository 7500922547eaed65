/// Stops the program with `message` when `condition` is false, in every
/// build: the check for a caller's mistake (a shape that does not fit, an
/// axis out of range).
///
/// Swift's `precondition` drops its message in optimised builds, which the
/// README recommends: a user's shape mistake then showed only a backtrace,
/// where a debug build said `linear: input [1, 3136] does not match weight
/// [10, 4096]`. `fatalError` keeps the message; the message is built only
/// on failure, so the check costs what `precondition`'s does.
@inlinable @inline(__always)
public func ensure(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                   file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
