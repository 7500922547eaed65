import Foundation
import HDF5
import Testing

/// A fresh directory under the system temporary directory for one test.
func makeScratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("checkpoint-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Deterministic test values that use the full float range of bit patterns.
func sampleFloats(_ count: Int, seed: UInt32) -> [Float] {
    var state = seed | 1
    return (0..<count).map { _ in
        state = state &* 1_664_525 &+ 1_013_904_223
        return Float(Int32(bitPattern: state)) / 1e6
    }
}

/// Writes the file every test below reads: nested groups, datasets of
/// several shapes and element types, and every kind of attribute.
func writeSampleFile(at path: String) throws {
    let file = try HDF5File.create(path)
    try file.createGroup("/optimizer/0.weight")
    try file.createGroup("optimizer/0.weight")  // existing group: no-op
    try file.writeDataset("/model/0.weight", shape: [128, 784], values: sampleFloats(128 * 784, seed: 1))
    try file.writeDataset("/model/0.bias", shape: [128], values: sampleFloats(128, seed: 2))
    try file.writeDataset("/model/scale", shape: [], values: [Float(0.5)])
    try file.writeDataset("/optimizer/0.weight/m", shape: [128, 784], values: sampleFloats(128 * 784, seed: 3))
    try file.writeDataset("/stats/empty", shape: [0, 3], values: [Float]())
    try file.writeDataset("/stats/cube", shape: [2, 3, 4], values: (0..<24).map { Double($0) * 0.1 })
    try file.writeDataset("/stats/counts", shape: [5], values: [Int64.min, -1, 0, 1, .max])
    try file.writeDataset("/stats/bytes", shape: [2, 2], values: [UInt8(0), 1, 254, 255])

    try file.setAttribute("format", "swiftddp-checkpoint")
    try file.setAttribute("step", Int64(12_345))
    try file.setAttribute("step", Int64(12_346))  // replaces
    try file.setAttribute("learning_rate", 0.001)
    try file.setAttribute("rng_state", [UInt64(1), 2, .max, 0xDEAD_BEEF_CAFE_F00D])
    try file.setAttribute("name", "Adam — β₁ ✓", on: "/optimizer")
    try file.setAttribute("beta", [0.9, 0.999], on: "/optimizer")
    try file.setAttribute("epoch", Int64(3), on: "/optimizer/0.weight")
    try file.setAttribute("mean", [Float(0.25), -1], on: "/model/0.weight")
    try file.setAttribute("layer", "Linear(784, 128)", on: "/model/0.weight")
    try file.setAttribute("empty", [Double](), on: "/model/0.bias")
    try file.setAttribute("blank", "", on: "/model/0.bias")
    try file.close()
    try file.close()  // twice is fine
}

struct HDF5FileTests {
    @Test func writesAndReadsBackEverythingExactly() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sample.h5").path
        try writeSampleFile(at: path)

        let file = try HDF5File.open(path)
        defer { try? file.close() }
        #expect(file.isReadOnly)

        let weight = try file.readDataset("/model/0.weight", as: Float.self)
        #expect(weight.shape == [128, 784])
        #expect(weight.values == sampleFloats(128 * 784, seed: 1))
        #expect(try file.readDataset("model/0.bias", as: Float.self).values == sampleFloats(128, seed: 2))
        let scale = try file.readDataset("/model/scale", as: Float.self)
        #expect(scale.shape == [] && scale.values == [0.5])
        let moment = try file.readDataset("/optimizer/0.weight/m", as: Float.self)
        #expect(moment.shape == [128, 784] && moment.values == sampleFloats(128 * 784, seed: 3))
        let empty = try file.readDataset("/stats/empty", as: Float.self)
        #expect(empty.shape == [0, 3] && empty.values.isEmpty)
        let cube = try file.readDataset("/stats/cube", as: Double.self)
        #expect(cube.shape == [2, 3, 4] && cube.values == (0..<24).map { Double($0) * 0.1 })
        #expect(try file.readDataset("/stats/counts", as: Int64.self).values == [.min, -1, 0, 1, .max])
        #expect(try file.readDataset("/stats/bytes", as: UInt8.self).values == [0, 1, 254, 255])

        // Straight into a caller's buffer, e.g. a view of a parameter buffer.
        var bias = [Float](repeating: 0, count: 128)
        let shape = try bias.withUnsafeMutableBufferPointer { try file.readDataset("/model/0.bias", into: $0) }
        #expect(shape == [128] && bias == sampleFloats(128, seed: 2))

        #expect(try file.datasetShape("/model/0.weight") == [128, 784])
        #expect(try file.datasetShape("/model/scale") == [])

        #expect(try file.stringAttribute("format") == "swiftddp-checkpoint")
        #expect(try file.attribute("step", as: Int64.self) == 12_346)
        #expect(try file.attribute("learning_rate", as: Double.self) == 0.001)
        #expect(try file.arrayAttribute("rng_state", as: UInt64.self) == [1, 2, .max, 0xDEAD_BEEF_CAFE_F00D])
        #expect(try file.stringAttribute("name", on: "/optimizer") == "Adam — β₁ ✓")
        #expect(try file.arrayAttribute("beta", on: "/optimizer", as: Double.self) == [0.9, 0.999])
        #expect(try file.attribute("epoch", on: "/optimizer/0.weight", as: Int64.self) == 3)
        #expect(try file.arrayAttribute("mean", on: "/model/0.weight", as: Float.self) == [0.25, -1])
        #expect(try file.stringAttribute("layer", on: "/model/0.weight") == "Linear(784, 128)")
        #expect(try file.arrayAttribute("empty", on: "/model/0.bias", as: Double.self) == [])
        #expect(try file.stringAttribute("blank", on: "/model/0.bias") == "")
        #expect(try file.attributeExists("step"))
        #expect(try !file.attributeExists("missing", on: "/model"))
    }

    @Test func listsChildrenAndTestsExistence() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sample.h5").path
        try writeSampleFile(at: path)
        let file = try HDF5File.open(path)

        #expect(try file.children() == [
            HDF5Child(name: "model", kind: .group),
            HDF5Child(name: "optimizer", kind: .group),
            HDF5Child(name: "stats", kind: .group),
        ])
        #expect(try file.children(of: "/model").map(\.name) == ["0.bias", "0.weight", "scale"])
        #expect(try file.children(of: "/model").allSatisfy { $0.kind == .dataset })
        #expect(try file.children(of: "/optimizer") == [HDF5Child(name: "0.weight", kind: .group)])
        #expect(try file.children(of: "/optimizer/0.weight") == [HDF5Child(name: "m", kind: .dataset)])

        #expect(try file.exists("/"))
        #expect(try file.exists("/optimizer/0.weight"))
        #expect(try file.exists("/model/0.weight"))
        #expect(try !file.exists("/model/1.weight"))
        #expect(try !file.exists("/nothing/here"))
        #expect(try !file.exists("/model/0.weight/below-a-dataset"))
        try file.close()
    }

    @Test func groupsThatTrackCreationOrderListInThatOrder() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ordered.h5").path
        let file = try HDF5File.create(path)
        let names = ["0.weight", "0.bias", "2.weight", "2.bias", "10.weight", "10.bias"]
        try file.createGroup("/model", tracksCreationOrder: true)
        try file.createGroup("/sorted")
        for name in names {
            try file.writeDataset("/model/\(name)", shape: [1], values: [Float(1)])
            try file.writeDataset("/sorted/\(name)", shape: [1], values: [Float(1)])
        }
        try file.close()

        let reopened = try HDF5File.open(path)
        #expect(try reopened.children(of: "/model").map(\.name) == names)
        #expect(try reopened.children(of: "/sorted").map(\.name) == names.sorted())
        try reopened.close()
    }

    @Test func listsAttributeNames() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sample.h5").path
        try writeSampleFile(at: path)
        let file = try HDF5File.open(path)
        #expect(try file.attributeNames() == ["format", "learning_rate", "rng_state", "step"])
        #expect(try file.attributeNames(on: "/optimizer") == ["beta", "name"])
        #expect(try file.attributeNames(on: "/stats/cube") == [])
        let error = try #require(throws: HDF5Error.self) { try file.attributeNames(on: "/nothing") }
        #expect(error.kind == .notFound && error.objectPath == "/nothing")
        try file.close()
    }

    @Test func missingAndMistypedValuesThrowClearErrors() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sample.h5").path
        try writeSampleFile(at: path)
        let file = try HDF5File.open(path)

        func failure(_ body: () throws -> Void) throws -> HDF5Error {
            let error = try #require(throws: HDF5Error.self) { try body() }
            #expect(error.filePath == path)
            #expect(error.description.contains(path))
            return error
        }

        var error = try failure { _ = try file.attribute("missing", as: Int64.self) }
        #expect(error.kind == .notFound)
        #expect(error.objectPath == "/@missing")
        error = try failure { _ = try file.stringAttribute("name", on: "/no/such/group") }
        #expect(error.kind == .notFound && error.objectPath == "/no/such/group")
        error = try failure { _ = try file.attribute("step", as: Double.self) }
        #expect(error.kind == .wrongType && error.description.contains("int64"))
        error = try failure { _ = try file.attribute("format", as: Int64.self) }
        #expect(error.kind == .wrongType)
        error = try failure { _ = try file.stringAttribute("step") }
        #expect(error.kind == .wrongType)
        error = try failure { _ = try file.attribute("rng_state", as: UInt64.self) }
        #expect(error.kind == .wrongShape)
        error = try failure { _ = try file.arrayAttribute("step", as: Int64.self) }
        #expect(error.kind == .wrongShape)

        error = try failure { _ = try file.readDataset("/model/0.weight", as: Double.self) }
        #expect(error.kind == .wrongType && error.description.contains("float32"))
        error = try failure { _ = try file.readDataset("/model/missing", as: Float.self) }
        #expect(error.kind == .notFound && error.objectPath == "/model/missing")
        error = try failure { _ = try file.readDataset("/model", as: Float.self) }
        #expect(error.kind == .wrongType)
        error = try failure { _ = try file.children(of: "/model/0.bias") }
        #expect(error.kind == .wrongType)
        var small = [Float](repeating: 0, count: 3)
        error = try failure { try small.withUnsafeMutableBufferPointer { _ = try file.readDataset("/model/0.bias", into: $0) } }
        #expect(error.kind == .wrongShape)

        // Read-only: HDF5 itself refuses, and the error says which object.
        error = try failure { try file.writeDataset("/model/new", shape: [1], values: [Float(1)]) }
        #expect(error.kind == .library && error.objectPath == "/model/new")

        try file.close()
        error = try failure { _ = try file.datasetShape("/model/0.bias") }
        #expect(error.kind == .closed)
    }

    /// A crafted file's 50 MB string once made `inspect` print it all and a
    /// resume spend 17 s on it (issue 23): past the limit it is an error,
    /// for both kinds of string h5py writes.
    @Test func stringAttributesPastTheLimitAreRefused() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("long.h5").path
        let limit = HDF5File.stringAttributeLimit
        let file = try HDF5File.create(path)
        try file.setAttribute("fits", String(repeating: "a", count: limit))
        try file.setAttribute("long", String(repeating: "a", count: limit + 1))
        try file.close()
        let reopened = try HDF5File.open(path)
        #expect(try reopened.stringAttribute("fits").utf8.count == limit)
        let error = try #require(throws: HDF5Error.self) { _ = try reopened.stringAttribute("long") }
        #expect(error.kind == .wrongShape && error.objectPath == "/@long")
        #expect(error.description.contains("more than \(limit) bytes"))
        try reopened.close()
    }

    @Test func writingOverAnExistingDatasetThrows() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("clash.h5").path
        let file = try HDF5File.create(path)
        try file.writeDataset("/a/b", shape: [2], values: [Float(1), 2])
        let error = try #require(throws: HDF5Error.self) {
            try file.writeDataset("/a/b", shape: [2], values: [Float(1), 2])
        }
        #expect(error.kind == .library && error.objectPath == "/a/b" && error.function == "H5Dcreate2")
        #expect(error.description.contains(path))
        let groupError = try #require(throws: HDF5Error.self) { try file.createGroup("/a/b") }
        #expect(groupError.kind == .wrongType)
        try file.close()
    }

    @Test func unreadableFilesThrowErrorsNamingThePath() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        let missing = directory.appendingPathComponent("missing.h5").path
        let missingError = try #require(throws: HDF5Error.self) { try HDF5File.open(missing) }
        #expect(missingError.filePath == missing && missingError.description.contains(missing))
        #expect(missingError.function == "H5Fopen")

        let real = directory.appendingPathComponent("real.h5").path
        try writeSampleFile(at: real)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: real))
        let truncated = directory.appendingPathComponent("truncated.h5").path
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        let truncatedError = try #require(throws: HDF5Error.self) { try HDF5File.open(truncated) }
        #expect(truncatedError.filePath == truncated && truncatedError.description.contains(truncated))

        let text = directory.appendingPathComponent("notes.h5").path
        try Data("not an HDF5 file\n".utf8).write(to: URL(fileURLWithPath: text))
        let textError = try #require(throws: HDF5Error.self) { try HDF5File.open(text, readOnly: false) }
        #expect(textError.filePath == text && textError.description.contains(text))

        let noDirectory = directory.appendingPathComponent("no/such/dir/out.h5").path
        let createError = try #require(throws: HDF5Error.self) { try HDF5File.create(noDirectory) }
        #expect(createError.function == "H5Fcreate" && createError.description.contains(noDirectory))
    }

    @Test(.enabled(if: h5dumpPath != nil, "h5dump is not on PATH; install hdf5-tools"))
    func h5dumpShowsNamesShapesAndUTF8Strings() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sample.h5").path
        try writeSampleFile(at: path)

        // -A: header and attributes, no dataset values.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(h5dumpPath))
        process.arguments = ["-A", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        #expect(output.contains("GROUP \"optimizer\""))
        #expect(output.contains("DATASET \"0.weight\""))
        #expect(output.contains("DATASET \"m\""))
        #expect(output.contains("DATASPACE  SIMPLE { ( 128, 784 ) / ( 128, 784 ) }"))
        #expect(output.contains("DATASPACE  SIMPLE { ( 2, 3, 4 ) / ( 2, 3, 4 ) }"))
        #expect(output.contains("H5T_IEEE_F32LE"))
        #expect(output.contains("STRSIZE H5T_VARIABLE"))
        #expect(output.contains("CSET H5T_CSET_UTF8"))
        #expect(output.contains("\"swiftddp-checkpoint\""))
        #expect(output.contains("ATTRIBUTE \"rng_state\""))
        #expect(output.contains("H5T_STD_U64LE"))
    }

    @Test func concurrentWritesOfDifferentFilesAreSafe() async throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let paths = (0..<8).map { directory.appendingPathComponent("file-\($0).h5").path }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, path) in paths.enumerated() {
                group.addTask {
                    let file = try HDF5File.create(path)
                    for layer in 0..<10 {
                        let values = sampleFloats(1000, seed: UInt32(index * 100 + layer))
                        try file.writeDataset("/model/\(layer).weight", shape: [10, 100], values: values)
                        try file.setAttribute("layer", "layer \(layer) of file \(index)", on: "/model/\(layer).weight")
                    }
                    try file.setAttribute("index", Int64(index))
                    try file.close()
                }
            }
            try await group.waitForAll()
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, path) in paths.enumerated() {
                group.addTask {
                    let file = try HDF5File.open(path)
                    #expect(try file.attribute("index", as: Int64.self) == Int64(index))
                    for layer in 0..<10 {
                        let read = try file.readDataset("/model/\(layer).weight", as: Float.self)
                        #expect(read.values == sampleFloats(1000, seed: UInt32(index * 100 + layer)))
                        #expect(try file.stringAttribute("layer", on: "/model/\(layer).weight")
                            == "layer \(layer) of file \(index)")
                    }
                    try file.close()
                }
            }
            try await group.waitForAll()
        }
    }
}

/// h5dump's path, if it is on PATH.
let h5dumpPath: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":")
        .map { "\($0)/h5dump" }
        .first { FileManager.default.isExecutableFile(atPath: $0) }
}()
