#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Scalar math used by the kernels, in one place so the rest of the module
// does not import the C library.
@inline(__always) func fexp(_ x: Float) -> Float { expf(x) }
@inline(__always) func flog(_ x: Float) -> Float { logf(x) }
@inline(__always) func fpow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
@inline(__always) func fsqrt(_ x: Float) -> Float { sqrtf(x) }
@inline(__always) func ferf(_ x: Float) -> Float { erff(x) }
