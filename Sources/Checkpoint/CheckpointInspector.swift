import HDF5

/// The text of `trainer inspect PATH`: whether a checkpoint is valid, its
/// metadata, every tensor with its shape and checksum (buffers marked as
/// such), and the learning-rate scheduler's state.
///
/// The verdict comes from `CheckpointFile.read(_:)`, so it is exactly what
/// resuming would decide; the listing after it walks the file on its own,
/// so a damaged file still shows everything that can be read, with each
/// dataset whose checksum does not match marked MISMATCH.
public enum CheckpointInspector {
    /// The report for the checkpoint at `path`; never throws (an unreadable
    /// file gives a report that says why).
    public static func report(path: String) -> String {
        var lines = ["checkpoint \(path) (\(fileSize(path)) bytes)"]
        do {
            let state = try CheckpointFile.read(path)
            let datasets = state.parameters.layout.names.count * (1 + state.optimizer.buffers.count)
                + state.buffers.layout.names.count
            lines.append("valid: yes (every required attribute present; "
                         + "metadata and \(datasets) dataset checksums match)")
        } catch {
            lines.append("valid: NO: \(error)")
        }
        guard let file = try? HDF5File.open(path) else { return lines.joined(separator: "\n") + "\n" }
        defer { try? file.close() }
        lines.append("attributes:")
        lines += attributeLines(file, on: "/", order: rootAttributeOrder)
        for child in (try? file.children()) ?? [] {
            let group = "/" + child.name
            guard child.kind == .group else {
                lines.append(datasetLine(file, group, name: group))
                continue
            }
            var datasets: [String] = []
            var groupsLeft = maxGroupsListed
            collectDatasets(file, in: group, into: &datasets, depth: 0, groupsLeft: &groupsLeft)
            let buffers = datasets.filter { (try? file.attributeExists("buffer", on: $0)) == true }
            if group == "/scheduler" && datasets.isEmpty {
                lines.append("/scheduler: learning-rate scheduler state")
            } else if buffers.isEmpty {
                lines.append("\(group): \(datasets.count) datasets")
            } else {
                lines.append("\(group): \(datasets.count) datasets (\(datasets.count - buffers.count) parameters, "
                             + "\(buffers.count) buffers)")
            }
            lines += attributeLines(file, on: group, order: ["type", "step"])
            let width = datasets.map { $0.count - group.count - 1 }.max() ?? 0
            for dataset in datasets {
                let line = datasetLine(file, dataset, name: String(dataset.dropFirst(group.count + 1)), width: width)
                lines.append(buffers.contains(dataset) ? line + "  (buffer)" : line)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The root attributes in the order the format lists them.
    private static let rootAttributeOrder = [
        "format", "format_version", "created", "model", "model_config", "dataset", "epoch", "iteration",
        "global_step", "samples_seen", "seed", "world_size", "batch_size", "rng_state", "metadata_crc32",
    ]

    /// "  name  value" for each attribute of `object`: those in `order`
    /// first, then the rest by name.
    private static func attributeLines(_ file: HDF5File, on object: String, order: [String]) -> [String] {
        guard let names = try? file.attributeNames(on: object) else { return ["  (attributes unreadable)"] }
        let sorted = order.filter(names.contains) + names.filter { !order.contains($0) }
        let width = sorted.map(\.count).max() ?? 0
        return sorted.map { name in
            "  " + name.padding(to: width) + "  " + attributeValue(file, name, on: object)
        }
    }

    /// An attribute's value in words, whatever its type; a one-dimensional
    /// attribute in brackets even when it holds one value.
    private static func attributeValue(_ file: HDF5File, _ name: String, on object: String) -> String {
        if let value = try? file.stringAttribute(name, on: object) { return value }
        if (try? file.attributeShape(name, on: object))?.count == 1 {
            return arrayValue(file, name, on: object) ?? "(unreadable or of another type)"
        }
        if let value = try? file.attribute(name, on: object, as: Int64.self) { return "\(value)" }
        if let value = try? file.attribute(name, on: object, as: UInt64.self) { return "\(value)" }
        if let value = try? file.attribute(name, on: object, as: UInt32.self) { return hex(value) }
        if let value = try? file.attribute(name, on: object, as: Double.self) { return "\(value)" }
        return arrayValue(file, name, on: object) ?? "(unreadable or of another type)"
    }

    /// A one-dimensional attribute's values in brackets, or nil.
    private static func arrayValue(_ file: HDF5File, _ name: String, on object: String) -> String? {
        if let value = try? file.arrayAttribute(name, on: object, as: UInt64.self) {
            return "[" + value.map { "0x" + String($0, radix: 16) }.joined(separator: ", ") + "]"
        }
        if let value = try? file.arrayAttribute(name, on: object, as: Double.self) { return "\(value)" }
        if let value = try? file.arrayAttribute(name, on: object, as: Int64.self) { return "\(value)" }
        return nil
    }

    /// How deep below a top-level group, and how many groups in all, the
    /// listing goes. A checkpoint nests two levels (/optimizer/<name>/<state>);
    /// the limits end the walk of a file whose hard links make a cycle (a
    /// group linked inside itself), which otherwise never ended (issue 12).
    private static let maxDepth = 8
    private static let maxGroupsListed = 10_000

    /// Every dataset below `group`, in listing order, as full paths.
    private static func collectDatasets(_ file: HDF5File, in group: String, into datasets: inout [String],
                                        depth: Int, groupsLeft: inout Int) {
        guard depth < maxDepth, groupsLeft > 0 else { return }
        groupsLeft -= 1
        for child in (try? file.children(of: group)) ?? [] {
            let path = group + "/" + child.name
            switch child.kind {
            case .dataset: datasets.append(path)
            case .group: collectDatasets(file, in: path, into: &datasets, depth: depth + 1, groupsLeft: &groupsLeft)
            case .other: continue
            }
        }
    }

    /// "  name  [shape]  crc32 0x...  ok" (or MISMATCH with both values).
    private static func datasetLine(_ file: HDF5File, _ path: String, name: String, width: Int = 0) -> String {
        let label = "  " + name.padding(to: width) + "  "
        guard let (shape, values) = try? file.readDataset(path, as: Float.self) else {
            return label + "(not a readable float32 dataset)"
        }
        let shapeText = "[" + shape.map(String.init).joined(separator: ", ") + "]"
        let actual = values.withUnsafeBufferPointer { CRC32.checksum($0) }
        guard let stored = try? file.attribute("crc32", on: path, as: UInt32.self) else {
            return label + shapeText + "  crc32 \(hex(actual)) (no stored checksum)"
        }
        let verdict = stored == actual ? "ok" : "MISMATCH: computed \(hex(actual))"
        return label + shapeText + "  crc32 \(hex(stored)) " + verdict
    }
}

extension String {
    /// The string followed by spaces up to `width` characters.
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
