/// Named tensors packed one after another in ONE flat `Float` buffer, in
/// state_dict order: tensor `i` holds the elements `range(of: i)`.
///
/// This is the layout of the trainer's parameter buffer (`ParameterSet`) and
/// of every optimizer state buffer, so a snapshot is a single copy of each
/// buffer and restoring is a single copy back when the layouts agree.
public struct TensorLayout: Sendable, Equatable {
    /// PyTorch state_dict names ("0.weight", "0.bias", ...), in buffer order.
    public let names: [String]
    /// The shape of each tensor (Linear weight [out, in], bias [out]).
    public let shapes: [[Int]]
    /// Where each tensor starts in the flat buffer.
    public let offsets: [Int]
    /// Number of elements of all tensors together.
    public let count: Int

    /// The layout of tensors `names` with `shapes`, packed in that order.
    ///
    /// Names must be unique, non-empty and free of "/" (each is one link
    /// name inside an HDF5 group; dots are fine).
    public init(names: [String], shapes: [[Int]]) {
        precondition(names.count == shapes.count, "TensorLayout has \(names.count) names but \(shapes.count) shapes")
        precondition(Set(names).count == names.count, "TensorLayout names must be unique: \(names)")
        for (name, shape) in zip(names, shapes) {
            precondition(!name.isEmpty && !name.contains("/") && name != "." && name != "..",
                         "Tensor name '\(name)' must be non-empty and must not contain '/'")
            precondition(shape.allSatisfy { $0 >= 0 }, "Tensor '\(name)' has a negative dimension: \(shape)")
        }
        var offsets: [Int] = []
        var total = 0
        for shape in shapes {
            offsets.append(total)
            total += shape.reduce(1, *)
        }
        self.names = names
        self.shapes = shapes
        self.offsets = offsets
        count = total
    }

    /// The position of the tensor called `name`.
    public func index(of name: String) -> Int? { names.firstIndex(of: name) }

    /// The elements of tensor `index` within the flat buffer.
    public func range(of index: Int) -> Range<Int> {
        offsets[index]..<offsets[index] + shapes[index].reduce(1, *)
    }

    /// Copies `values`, laid out as `source`, into `destination`, laid out as
    /// this layout, tensor by tensor by name: one copy when the layouts are
    /// equal, and a correct one when the same tensors come in another order.
    ///
    /// Both layouts must hold the same names with the same shapes (check
    /// with `CheckpointExpectation` first).
    public func copy(_ values: [Float], laidOutAs source: TensorLayout,
                     into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(values.count == source.count, "\(values.count) values for a layout of \(source.count)")
        precondition(destination.count == count, "Destination holds \(destination.count) values, layout needs \(count)")
        values.withUnsafeBufferPointer { from in
            guard let to = destination.baseAddress, let from = from.baseAddress else { return }
            if source == self {
                to.update(from: from, count: count)
                return
            }
            for (index, name) in names.enumerated() {
                guard let sourceIndex = source.index(of: name), source.shapes[sourceIndex] == shapes[index] else {
                    preconditionFailure("Tensor '\(name)' \(shapes[index]) is not in the source layout with that shape")
                }
                (to + offsets[index]).update(from: from + source.offsets[sourceIndex], count: range(of: index).count)
            }
        }
    }
}
