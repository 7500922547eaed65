extension ImageDataset {
    /// Loads an image data set from a pair of IDX files (MNIST layout): an
    /// images file (`0x00000803`, N x rows x columns) and a labels file
    /// (`0x00000801`, N), each gzipped or plain. Images get one channel.
    ///
    /// - Parameter classNames: when not empty, every label must index it, so a
    ///   mixed-up file is caught here rather than as a wrong loss later.
    /// - Throws: `DataError` naming the offending file: anything `IDXFile`
    ///   rejects, image and label counts that disagree, or a label out of range.
    public init(idxImages imagesPath: String, idxLabels labelsPath: String, classNames: [String] = []) throws {
        let images = try IDXFile(contentsOf: imagesPath, expecting: .images)
        let labels = try IDXFile(contentsOf: labelsPath, expecting: .labels)
        guard images.count == labels.count else {
            throw DataError(.countMismatch, path: imagesPath,
                            "\(images.count) images but \(labelsPath) has \(labels.count) labels")
        }
        if !classNames.isEmpty, let bad = labels.bytes.firstIndex(where: { Int($0) >= classNames.count }) {
            throw DataError(.labelOutOfRange, path: labelsPath,
                            "label \(labels.bytes[bad]) at index \(bad) but there are only \(classNames.count) classes")
        }
        self.init(pixels: images.bytes, labels: labels.bytes.map { Int32($0) },
                  channels: 1, height: images.dimensions[1], width: images.dimensions[2],
                  classNames: classNames)
    }
}
