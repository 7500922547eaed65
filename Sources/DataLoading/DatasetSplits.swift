/// A named data set's training and test parts, as `DatasetCatalog` loads them.
public struct DatasetSplits: Sendable {
    /// The catalog name, e.g. `fashion-mnist`.
    public let name: String
    /// The directory the files were read from.
    public let directory: String
    public let train: ImageDataset
    public let test: ImageDataset
    /// Something the user should know about how the splits were made (for
    /// example that a test set was split in two); nil when nothing unusual.
    public let note: String?

    public init(name: String, directory: String, train: ImageDataset, test: ImageDataset, note: String?) {
        self.name = name
        self.directory = directory
        self.train = train
        self.test = test
        self.note = note
    }
}
