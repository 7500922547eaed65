#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// The C library's pow and cos in Double, as Python's float ** and math.cos
// compute them (torch's bias corrections and schedules), without Foundation.

func libmPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }

func libmCos(_ x: Double) -> Double { cos(x) }
