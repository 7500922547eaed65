/// What a link inside an HDF5 group points at.
public enum HDF5ObjectKind: Sendable, Equatable {
    /// A group, which holds further links (a directory, in file-system terms).
    case group
    /// A dataset: an n-dimensional array of numbers.
    case dataset
    /// Anything else (a committed datatype, a dangling soft link, ...).
    case other
}

/// One entry of a group listing, so a loader can walk a checkpoint and report
/// unexpected or missing tensors the way PyTorch's `load_state_dict` does.
public struct HDF5Child: Sendable, Equatable {
    /// The link name inside its group (no slashes), e.g. `"0.weight"`.
    public let name: String
    /// Whether it is a group or a dataset.
    public let kind: HDF5ObjectKind

    /// A listing entry.
    public init(name: String, kind: HDF5ObjectKind) {
        self.name = name
        self.kind = kind
    }
}
