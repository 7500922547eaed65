import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What went wrong in a Foundation file operation, in a few words ("No such
/// file or directory", "Permission denied"): the POSIX reason underneath
/// the error when there is one, never a raw `NSError` dump or Foundation's
/// generic "The operation could not be completed".
public func fileSystemReason(_ error: any Error) -> String {
    let error = error as NSError
    if error.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(error.code))) }
    // On Linux the underlying error is kept as `any Error`, which `as? NSError` does not match.
    if let underlying = (error.userInfo[NSUnderlyingErrorKey] as? any Error).map({ $0 as NSError }),
       underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    if error.domain == NSCocoaErrorDomain {
        switch CocoaError.Code(rawValue: error.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "No such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: return "Permission denied"
        case .fileWriteFileExists: return "a file of that name exists"
        case .fileWriteOutOfSpace: return "No space left on device"
        case .fileWriteVolumeReadOnly: return "Read-only file system"
        default: break
        }
    }
    return "error \(error.code) (\(error.domain))"
}
