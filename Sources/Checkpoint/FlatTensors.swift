import Foundation

/// A snapshot of named tensors: a layout and one flat buffer of values.
///
/// Equality compares the bit patterns of the values, so a snapshot equals
/// its round trip through a file even when it holds NaNs, and `-0.0` is
/// told apart from `0.0`: exact restart means bit for bit.
public struct FlatTensors: Sendable, Equatable {
    /// Names, shapes and offsets of the tensors in `values`.
    public var layout: TensorLayout
    /// Every tensor's elements, row-major, one after another.
    public var values: [Float]

    /// Tensors laid out as `layout` holding `values`.
    public init(layout: TensorLayout, values: [Float]) {
        precondition(values.count == layout.count,
                     "FlatTensors: \(values.count) values for a layout of \(layout.count) elements")
        self.layout = layout
        self.values = values
    }

    /// A snapshot copied from a flat buffer laid out as `layout`, e.g. the
    /// trainer's parameter buffer: one memcpy, cheap enough to take on the
    /// training thread before handing the state to a background writer.
    public init(layout: TensorLayout, copying buffer: UnsafeBufferPointer<Float>) {
        precondition(buffer.count == layout.count,
                     "FlatTensors: the buffer holds \(buffer.count) values, the layout needs \(layout.count)")
        self.layout = layout
        values = Array(buffer)
    }

    /// No tensors at all: the buffers of a model that has none.
    public static let empty = FlatTensors(layout: TensorLayout(names: [], shapes: []), values: [])

    /// The values of the tensor called `name`, or nil if there is none.
    public subscript(name: String) -> ArraySlice<Float>? {
        layout.index(of: name).map { values[layout.range(of: $0)] }
    }

    public static func == (lhs: FlatTensors, rhs: FlatTensors) -> Bool {
        lhs.layout == rhs.layout && bitwiseEqual(lhs.values, rhs.values)
    }
}

/// Whether two float arrays hold the same bit patterns.
func bitwiseEqual(_ lhs: [Float], _ rhs: [Float]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    return lhs.withUnsafeBytes { a in
        rhs.withUnsafeBytes { b in
            a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
        }
    }
}
