import Checkpoint
import Foundation
import HDF5
import Testing

struct CheckpointFileTests {
    @Test func roundTripKeepsEveryValueBitForBit() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.h5").path
        let state = sampleState()
        try CheckpointFile.write(state, to: path)
        let loaded = try CheckpointFile.read(path)

        #expect(loaded == state)
        #expect(loaded.parameters.layout == sampleLayout)  // state_dict order, not name order
        #expect(sameBits(loaded.parameters.values, state.parameters.values))
        #expect(loaded.parameters.values[1].bitPattern == (-Float.leastNonzeroMagnitude).bitPattern)
        #expect(loaded.parameters.values[2].sign == .minus && loaded.parameters.values[2] == 0)
        for name in ["exp_avg", "exp_avg_sq"] {
            #expect(sameBits(try #require(loaded.optimizer.buffers[name]), try #require(state.optimizer.buffers[name])))
        }
        #expect(loaded.optimizer.type == "adam" && loaded.optimizer.step == 1200)
        #expect(loaded.optimizer.hyperParameters == state.optimizer.hyperParameters)
        #expect(loaded.rngState == [UInt64.max, 0, 1, 0xDEAD_BEEF_CAFE_F00D &+ 1200])
        #expect(loaded.seed == UInt64.max - 6)
        #expect(loaded.epoch == 3 && loaded.iteration == 0 && loaded.globalStep == 1200)
        #expect(loaded.samplesSeen == 76_800 && loaded.worldSize == 4 && loaded.batchSize == 64)
        #expect(loaded.model == "mlp" && loaded.dataset == "fashion-mnist")
        #expect(loaded.modelConfig == state.modelConfig && loaded.created == "2025-01-31T12:00:00.250Z")
        #expect(loaded.extra == state.extra)
        #expect(loaded.parameters["2.bias"] == state.parameters.values[sampleLayout.range(of: 3)])
    }

    @Test func sgdWithAndWithoutMomentumRoundTrips() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var state = sampleState(step: 5)
        state.optimizer = OptimizerState(type: "sgd", hyperParameters: ["lr": 0.1, "momentum": 0.9, "nesterov": 0],
                                         step: 5,
                                         buffers: ["momentum_buffer": sampleFloats(sampleLayout.count, seed: 9)])
        let path = directory.appendingPathComponent("sgd.h5").path
        try CheckpointFile.write(state, to: path)
        #expect(try CheckpointFile.read(path) == state)

        state.optimizer = OptimizerState(type: "sgd", hyperParameters: ["lr": 0.1], step: 5)
        state.extra = [:]
        state.rngState = []
        let plain = directory.appendingPathComponent("plain.h5").path
        try CheckpointFile.write(state, to: plain)
        #expect(try CheckpointFile.read(plain) == state)
        #expect(try HDF5File.open(plain).children(of: "/optimizer").isEmpty)
    }

    @Test func fileHasTheDocumentedLayout() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("layout.h5").path
        let state = sampleState()
        try CheckpointFile.write(state, to: path)

        let file = try HDF5File.open(path)
        defer { try? file.close() }
        #expect(try file.children().map(\.name) == ["extra", "model", "optimizer"])
        #expect(try file.children(of: "/model").map(\.name) == sampleLayout.names)
        #expect(try file.datasetShape("/model/2.weight") == [3, 8])
        #expect(try file.datasetShape("/optimizer/10.weight/exp_avg_sq") == [2, 3])
        #expect(try file.children(of: "/optimizer/0.weight").map(\.name) == ["exp_avg", "exp_avg_sq"])
        #expect(try file.stringAttribute("format") == "swiftddp-checkpoint")
        #expect(try file.attribute("format_version", as: Int64.self) == 1)
        #expect(try file.attribute("global_step", as: Int64.self) == 1200)
        #expect(try file.attribute("seed", as: UInt64.self) == UInt64.max - 6)
        #expect(try file.stringAttribute("type", on: "/optimizer") == "adam")
        #expect(try file.attribute("step", on: "/optimizer", as: Int64.self) == 1200)
        #expect(try file.attribute("lr", on: "/optimizer", as: Double.self) == 0.001)
        #expect(try file.stringAttribute("note", on: "/extra") == "β₁ — résumé ✓")
        // The checksum is zlib's CRC-32 of the little-endian float32 bytes.
        let bias = try #require(state.parameters["0.bias"])
        let expected = bytes(of: bias).withUnsafeBytes { CRC32.checksum(bytes: $0) }
        #expect(try file.attribute("crc32", on: "/model/0.bias", as: UInt32.self) == expected)
    }

    @Test func flippedDataBytesGiveAChecksumErrorNamingTheDataset() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("corrupt.h5").path
        let state = sampleState()
        try CheckpointFile.write(state, to: path)
        let original = try #require(state.parameters["2.weight"])
        try corruptData(of: original, inFileAt: path)

        let error = try #require(throws: CheckpointError.self) { try CheckpointFile.read(path) }
        guard case let .checksumMismatch(file, dataset, expected, actual) = error else {
            Issue.record("expected a checksum mismatch, got \(error)")
            return
        }
        #expect(file == path && dataset == "/model/2.weight")
        #expect(expected == CRC32.checksum(original) && actual != expected)
        #expect(error.description.contains(path) && error.description.contains("/model/2.weight"))
        #expect(error.description.contains(String(expected, radix: 16)))

        // Optimizer state is checked the same way.
        let second = directory.appendingPathComponent("corrupt-state.h5").path
        try CheckpointFile.write(state, to: second)
        let moment = try #require(state.optimizer.buffers["exp_avg"])[sampleLayout.range(of: 0)]
        try corruptData(of: moment, inFileAt: second)
        let stateError = try #require(throws: CheckpointError.self) { try CheckpointFile.read(second) }
        #expect(stateError.description.contains("/optimizer/0.weight/exp_avg"))
    }

    @Test func corruptStringAttributesFailTheMetadataChecksum() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("strings.h5").path
        let state = sampleState()
        try CheckpointFile.write(state, to: path)
        // HDF5 keeps variable-length strings in a heap without checksums.
        let url = URL(fileURLWithPath: path)
        var contents = try Data(contentsOf: url)
        let range = try #require(contents.range(of: Data("fashion-mnist".utf8)))
        contents[range.lowerBound + 2] ^= 0x01
        try contents.write(to: url)

        let error = try #require(throws: CheckpointError.self) { try CheckpointFile.read(path) }
        guard case let .metadataChecksumMismatch(file, expected, actual) = error else {
            Issue.record("expected a metadata checksum mismatch, got \(error)")
            return
        }
        #expect(file == path && actual != expected)
        let text = CheckpointFile.metadataText(of: state)
        #expect(expected == Array(text.utf8).withUnsafeBytes { CRC32.checksum(bytes: $0) })
        #expect(error.description.contains(path) && error.description.contains("attributes are corrupt"))
    }

    /// Found by fuzzing (issue 12): HDF5 1.10 steps through a global heap
    /// collection by its objects' sizes, so a free space of size 0 hung
    /// every read (and `trainer inspect`), and an object larger than its
    /// collection was copied from beyond the library's buffer.
    @Test(arguments: ["free space of size 0", "object larger than its collection"])
    func damagedGlobalHeapIsRefusedBeforeTheLibraryReadsIt(damage: String) throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("heap.h5").path
        try CheckpointFile.write(sampleState(), to: path)
        let url = URL(fileURLWithPath: path)
        var contents = [UInt8](try Data(contentsOf: url))
        let heap = try #require(Data(contents).range(of: Data("GCOL".utf8))).lowerBound
        func word(_ offset: Int) -> Int { (0..<8).reduce(0) { $0 | Int(contents[offset + $1]) << (8 * $1) } }
        func setWord(_ offset: Int, _ value: UInt64) {
            for i in 0..<8 { contents[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        }
        // The objects after the 16-byte header: index, 2 + 4 bytes, size, data padded to 8.
        var object = heap + 16
        while contents[object] | contents[object + 1] != 0 {
            object += 16 + (word(object + 8) + 7) / 8 * 8
        }
        if damage == "free space of size 0" {
            setWord(object + 8, 0)
        } else {
            setWord(heap + 16 + 8, 1 << 40)
        }
        try Data(contents).write(to: url)

        let error = try #require(throws: CheckpointError.self) { try CheckpointFile.read(path) }
        guard case let .unreadable(file, reason) = error else {
            Issue.record("expected unreadable, got \(error)")
            return
        }
        #expect(file == path && reason.contains("global heap collection at byte \(heap)"), "\(reason)")
        #expect(CheckpointInspector.report(path: path).contains("valid: NO: checkpoint '\(path)' cannot be read"))
    }

    @Test func metadataTextCoversEverythingButTheValues() {
        let text = CheckpointFile.metadataText(of: sampleState())
        for line in ["format=19:swiftddp-checkpoint", "global_step=1200", "seed=18446744073709551609",
                     "dataset=13:fashion-mnist", "tensor=8:0.weight 8,5", "tensor=9:10.weight 2,3",
                     "optimizer.type=4:adam", "optimizer.2:lr=3f50624dd2f1a9fc",
                     "optimizer.state=7:exp_avg,10:exp_avg_sq",
                     "extra.4:note=\("β₁ — résumé ✓".utf8.count):β₁ — résumé ✓"] {
            #expect(text.contains(line + "\n"), "metadata text lacks \(line):\n\(text)")
        }
        var other = sampleState()
        other.parameters = FlatTensors(layout: TensorLayout(names: sampleLayout.names.reversed(),
                                                            shapes: sampleLayout.shapes.reversed()),
                                       values: other.parameters.values)
        #expect(CheckpointFile.metadataText(of: other) != text)  // tensor order counts
    }

    @Test func truncatedFilesGiveAnErrorNamingTheFile() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("whole.h5").path
        try CheckpointFile.write(sampleState(), to: source)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: source)[.size] as? NSNumber).intValue
        for length in [0, 100, size / 2, size - 1] {
            let path = directory.appendingPathComponent("cut-\(length).h5").path
            try FileManager.default.copyItem(atPath: source, toPath: path)
            try truncateFile(at: path, to: length)
            let error = try #require(throws: CheckpointError.self) { try CheckpointFile.read(path) }
            guard case let .unreadable(file, _) = error else {
                Issue.record("expected unreadable for \(length) bytes, got \(error)")
                continue
            }
            #expect(file == path && error.description.contains(path))
        }
        let missing = directory.appendingPathComponent("missing.h5").path
        let error = try #require(throws: CheckpointError.self) { try CheckpointFile.read(missing) }
        #expect(error.description.contains(missing))
    }

    @Test func missingOrMistypedPartsAreNamed() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        // Not a checkpoint at all: an HDF5 file without the format attribute.
        let other = directory.appendingPathComponent("other.h5").path
        let file = try HDF5File.create(other)
        try file.writeDataset("/model/0.weight", shape: [1], values: [Float(1)])
        try file.close()
        #expect(throws: CheckpointError.invalid(file: other, object: "/@format",
                                                reason: "required but missing (no such attribute)")) {
            try CheckpointFile.read(other)
        }

        // A required attribute of the wrong type.
        let path = directory.appendingPathComponent("mistyped.h5").path
        try CheckpointFile.write(sampleState(), to: path)
        let edit = try HDF5File.open(path, readOnly: false)
        try edit.setAttribute("global_step", "twelve hundred")
        try edit.close()
        let error = try #require(throws: CheckpointError.self) { try CheckpointFile.read(path) }
        guard case let .invalid(file: name, object: object, reason: _) = error else {
            Issue.record("expected invalid, got \(error)")
            return
        }
        #expect(name == path && object == "/@global_step")

        // A file from a newer version of the format.
        let newer = directory.appendingPathComponent("newer.h5").path
        try CheckpointFile.write(sampleState(), to: newer)
        let bump = try HDF5File.open(newer, readOnly: false)
        try bump.setAttribute("format_version", Int64(2))
        try bump.close()
        #expect(throws: CheckpointError.unsupportedVersion(file: newer, version: 2, supported: 1)) {
            try CheckpointFile.read(newer)
        }

        // Optimizer state for a parameter the model does not have.
        let stray = directory.appendingPathComponent("stray.h5").path
        try CheckpointFile.write(sampleState(), to: stray)
        let add = try HDF5File.open(stray, readOnly: false)
        try add.writeDataset("/optimizer/9.weight/exp_avg", shape: [1], values: [Float(0)])
        try add.close()
        let strayError = try #require(throws: CheckpointError.self) { try CheckpointFile.read(stray) }
        #expect(strayError.description.contains("/optimizer/9.weight"))
    }

    @Test func statesThatCannotBeStoredAreRefusedBeforeWriting() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("refused.h5").path
        var state = sampleState()
        state.optimizer.buffers["exp_avg"]?.removeLast()
        #expect(throws: CheckpointError.self) { try CheckpointFile.write(state, to: path) }
        state = sampleState()
        state.optimizer.hyperParameters["step"] = 3
        #expect(throws: CheckpointError.self) { try CheckpointFile.write(state, to: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test(.enabled(if: h5dumpPath != nil, "h5dump is not on PATH; install hdf5-tools"))
    func h5dumpShowsNamesShapesAndAttributes() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ckpt-00001200.h5").path
        try CheckpointFile.write(sampleState(), to: path)

        let (status, output) = try runProcess(try #require(h5dumpPath), ["-A", path])
        #expect(status == 0, "\(output)")
        for text in [
            "GROUP \"model\"", "GROUP \"optimizer\"", "GROUP \"extra\"",
            "DATASET \"0.weight\"", "DATASET \"10.weight\"", "DATASET \"exp_avg_sq\"",
            "DATASPACE  SIMPLE { ( 8, 5 ) / ( 8, 5 ) }", "DATASPACE  SIMPLE { ( 3 ) / ( 3 ) }",
            "H5T_IEEE_F32LE", "ATTRIBUTE \"crc32\"", "H5T_STD_U32LE",
            "ATTRIBUTE \"rng_state\"", "H5T_STD_U64LE", "STRSIZE H5T_VARIABLE", "CSET H5T_CSET_UTF8",
            "\"swiftddp-checkpoint\"", "\"fashion-mnist\"", "\"adam\"",
        ] {
            #expect(output.contains(text), "h5dump output lacks \(text)")
        }
        for (name, value) in [("global_step", "1200"), ("epoch", "3"), ("world_size", "4"), ("batch_size", "64"),
                              ("samples_seen", "76800"), ("format_version", "1"), ("seed", "18446744073709551609")] {
            let pattern = "ATTRIBUTE \"\(name)\" \\{[^}]*DATA \\{\\s*\\(0\\): \(value)\\s*\\}"
            #expect(output.range(of: pattern, options: .regularExpression) != nil, "\(name) is not \(value)")
        }

        // The values of one dataset, as h5dump prints them.
        let (_, values) = try runProcess(try #require(h5dumpPath), ["-d", "/model/2.bias", path])
        let bias = try #require(sampleState().parameters["2.bias"])
        #expect(values.contains("DATASET \"/model/2.bias\""))
        #expect(values.contains("\(bias[bias.startIndex])".prefix(5)))
    }

    // MARK: Buffers and the learning-rate scheduler

    @Test func buffersAndSchedulerRoundTripBesideTheParameters() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bn.h5").path
        let state = sampleStateWithBuffers()
        try CheckpointFile.write(state, to: path)
        let loaded = try CheckpointFile.read(path)

        #expect(loaded == state)
        #expect(loaded.parameters.layout == sampleLayout && loaded.buffers.layout == sampleBufferLayout)
        #expect(sameBits(loaded.buffers.values, state.buffers.values))
        #expect(loaded.buffers["1.num_batches_tracked"] == [1200])
        #expect(loaded.scheduler == sampleScheduler)
        #expect(loaded.scheduler?.lists["_last_lr"] == [0.0001] && loaded.scheduler?.lists["unused"] == [])

        let file = try HDF5File.open(path)
        defer { try? file.close() }
        #expect(try file.children().map(\.name) == ["extra", "model", "optimizer", "scheduler"])
        #expect(try file.children(of: "/model").map(\.name) == sampleLayout.names + sampleBufferLayout.names)
        #expect(try file.datasetShape("/model/1.num_batches_tracked") == [])
        #expect(try file.datasetShape("/model/1.running_var") == [8])
        for name in sampleBufferLayout.names {
            #expect(try file.attribute("buffer", on: "/model/\(name)", as: Int64.self) == 1)
            #expect(try file.attributeExists("crc32", on: "/model/\(name)"))
        }
        for name in sampleLayout.names {
            #expect(try !file.attributeExists("buffer", on: "/model/\(name)"))
        }
        // Optimizer state for parameters only.
        #expect(try file.children(of: "/optimizer").map(\.name) == sampleLayout.names)
        #expect(try file.stringAttribute("type", on: "/scheduler") == "multistep")
        #expect(try file.attribute("gamma", on: "/scheduler", as: Double.self) == 0.1)
        #expect(try file.attributeShape("gamma", on: "/scheduler") == [])
        #expect(try file.attributeShape("_last_lr", on: "/scheduler") == [1])
        #expect(try file.arrayAttribute("milestones", on: "/scheduler", as: Double.self) == [400, 800])
        #expect(try file.arrayAttribute("unused", on: "/scheduler", as: Double.self) == [])
    }

    @Test("A state no run can have saved, with valid checksums (a NaN or infinity in the model or the optimizer state, a negative running variance), is refused on read, naming the tensor and the element")
    func nonFiniteOrImpossibleValuesAreRefused() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("crafted.h5").path
        let name0 = sampleLayout.names[0], name1 = sampleLayout.names[1]
        let crafts: [(String, (inout TrainingState) -> Void, String, String)] = [
            ("nan", { $0.parameters.values[3] = .nan }, "/model/\(name0)", "element 3 is nan"),
            ("inf", { $0.parameters.values[sampleLayout.range(of: 1).lowerBound + 2] = -.infinity },
             "/model/\(name1)", "element 2 is -inf"),
            ("moment", { $0.optimizer.buffers["exp_avg_sq"]![0] = .infinity }, "/optimizer/\(name0)/exp_avg_sq", "element 0 is inf"),
            ("variance", { state in
                let index = try! #require(sampleBufferLayout.index(of: "1.running_var"))
                state.buffers.values[sampleBufferLayout.range(of: index).lowerBound + 1] = -0.5
            }, "/model/1.running_var", "element 1 is -0.5; a variance is never negative"),
        ]
        for (label, craft, object, reason) in crafts {
            var state = sampleStateWithBuffers()
            craft(&state)
            try CheckpointFile.write(state, to: path)
            do {
                _ = try CheckpointFile.read(path)
                Issue.record("\(label): the crafted checkpoint was read")
            } catch let CheckpointError.invalid(file, found, why) {
                #expect(file == path && found == object && why.contains(reason), "\(label): \(found): \(why)")
            }
        }
    }

    @Test func aFileWithoutBuffersOrSchedulerIsWhatFormatOneAlwaysWrote() throws {
        let state = sampleState()
        let text = CheckpointFile.metadataText(of: state)
        // The CRC-32 of this state's metadata text before buffers and schedulers existed.
        #expect(Array(text.utf8).withUnsafeBytes { CRC32.checksum(bytes: $0) } == 0xF43E_8A04)
        #expect(!text.contains("buffer=") && !text.contains("scheduler."))

        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("plain.h5").path
        try CheckpointFile.write(state, to: path)
        let loaded = try CheckpointFile.read(path)
        #expect(loaded == state && loaded.buffers == .empty && loaded.scheduler == nil)
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        #expect(try file.children().map(\.name) == ["extra", "model", "optimizer"])
        for name in sampleLayout.names {
            #expect(try file.attributeNames(on: "/model/\(name)") == ["crc32"])
        }
    }

    @Test func metadataTextCoversBuffersAndTheScheduler() {
        let text = CheckpointFile.metadataText(of: sampleStateWithBuffers())
        let lines = text.split(separator: "\n").map(String.init)
        let expected = [
            "buffer=14:1.running_mean 8", "buffer=13:1.running_var 8", "buffer=21:1.num_batches_tracked ",
            "scheduler.type=9:multistep", "scheduler.11:_step_count=" + String((1201.0).bitPattern, radix: 16),
            "scheduler.5:gamma=" + String((0.1).bitPattern, radix: 16),
            "scheduler.8:_last_lr=[" + String((0.0001).bitPattern, radix: 16) + "]", "scheduler.6:unused=[]",
        ]
        for line in expected {
            #expect(lines.contains(line), "metadata text lacks \(line):\n\(text)")
        }
        // Buffers follow the parameters; the scheduler follows the optimizer, before the extras.
        let index = { (prefix: String) in lines.firstIndex { $0.hasPrefix(prefix) } ?? -1 }
        #expect(index("tensor=9:10.weight") + 1 == index("buffer=14:1.running_mean"))
        #expect(index("optimizer.state=") + 1 == index("scheduler.type="))
        #expect(index("scheduler.6:unused=") + 1 == index("extra."))
    }

    @Test func aCorruptBufferValueGivesAChecksumErrorNamingIt() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("corrupt-buffer.h5").path
        let state = sampleStateWithBuffers()
        try CheckpointFile.write(state, to: path)
        let original = try #require(state.buffers["1.running_var"])
        try corruptData(of: original, inFileAt: path)

        let error = try #require(throws: CheckpointError.self) { try CheckpointFile.read(path) }
        guard case let .checksumMismatch(file, dataset, expected, actual) = error else {
            Issue.record("expected a checksum mismatch, got \(error)")
            return
        }
        #expect(file == path && dataset == "/model/1.running_var")
        #expect(expected == CRC32.checksum(original) && actual != expected)

        // A mistyped checksum is named like a parameter's.
        let mistyped = directory.appendingPathComponent("mistyped-crc.h5").path
        try CheckpointFile.write(state, to: mistyped)
        let edit = try HDF5File.open(mistyped, readOnly: false)
        try edit.setAttribute("crc32", "none", on: "/model/1.num_batches_tracked")
        try edit.close()
        let crcError = try #require(throws: CheckpointError.self) { try CheckpointFile.read(mistyped) }
        guard case let .invalid(_, object, _) = crcError else {
            Issue.record("expected invalid, got \(crcError)")
            return
        }
        #expect(object == "/model/1.num_batches_tracked@crc32")
    }

    @Test func tamperedBuffersOrSchedulerFailTheMetadataChecksum() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let edits: [(String, (HDF5File) throws -> Void)] = [
            ("gamma", { try $0.setAttribute("gamma", 0.5, on: "/scheduler") }),
            ("list", { try $0.setAttribute("milestones", [400.0], on: "/scheduler") }),
            ("scalar-as-list", { try $0.setAttribute("gamma", [0.1], on: "/scheduler") }),
            ("added", { try $0.setAttribute("T_max", 10.0, on: "/scheduler") }),
            ("type", { try $0.setAttribute("type", "cosine", on: "/scheduler") }),
        ]
        for (name, edit) in edits {
            let path = directory.appendingPathComponent("\(name).h5").path
            try CheckpointFile.write(sampleStateWithBuffers(), to: path)
            let file = try HDF5File.open(path, readOnly: false)
            try edit(file)
            try file.close()
            let error = try #require(throws: CheckpointError.self) { try CheckpointFile.read(path) }
            guard case .metadataChecksumMismatch = error else {
                Issue.record("\(name): expected a metadata checksum mismatch, got \(error)")
                continue
            }
        }

        // A parameter marked as a buffer (no optimizer state to trip over first).
        var state = sampleStateWithBuffers()
        state.optimizer = OptimizerState(type: "sgd", hyperParameters: ["lr": 0.1], step: 1200)
        let marked = directory.appendingPathComponent("marked.h5").path
        try CheckpointFile.write(state, to: marked)
        let file = try HDF5File.open(marked, readOnly: false)
        try file.setAttribute("buffer", Int64(1), on: "/model/2.bias")
        try file.close()
        let error = try #require(throws: CheckpointError.self) { try CheckpointFile.read(marked) }
        guard case .metadataChecksumMismatch = error else {
            Issue.record("expected a metadata checksum mismatch, got \(error)")
            return
        }
    }

    @Test func aMalformedSchedulerIsNamed() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let untyped = directory.appendingPathComponent("untyped.h5").path
        try CheckpointFile.write(sampleState(), to: untyped)
        let add = try HDF5File.open(untyped, readOnly: false)
        try add.createGroup("/scheduler")
        try add.setAttribute("gamma", 0.1, on: "/scheduler")
        try add.close()
        #expect(throws: CheckpointError.invalid(file: untyped, object: "/scheduler@type",
                                                reason: "required but missing (no such attribute)")) {
            try CheckpointFile.read(untyped)
        }

        let edits: [(String, (HDF5File) throws -> Void)] = [
            ("integer", { try $0.setAttribute("gamma", Int64(1), on: "/scheduler") }),
            ("string", { try $0.setAttribute("gamma", "0.1", on: "/scheduler") }),
            ("integer-list", { try $0.setAttribute("base_lrs", [Int64(1)], on: "/scheduler") }),
        ]
        for (name, edit) in edits {
            let path = directory.appendingPathComponent("\(name).h5").path
            try CheckpointFile.write(sampleStateWithBuffers(), to: path)
            let file = try HDF5File.open(path, readOnly: false)
            try edit(file)
            try file.close()
            let error = try #require(throws: CheckpointError.self) { try CheckpointFile.read(path) }
            guard case let .invalid(file: named, object: object, reason: _) = error else {
                Issue.record("\(name): expected invalid, got \(error)")
                continue
            }
            #expect(named == path && object.hasPrefix("/scheduler@"), "\(error)")
        }
    }

    @Test func buffersAndSchedulersThatCannotBeStoredAreRefused() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("refused.h5").path
        var state = sampleStateWithBuffers()
        state.buffers = FlatTensors(layout: TensorLayout(names: ["0.bias"], shapes: [[8]]),
                                    values: [Float](repeating: 0, count: 8))
        #expect(throws: CheckpointError.self) { try CheckpointFile.write(state, to: path) }
        state = sampleStateWithBuffers()
        state.buffers.values.removeLast()
        #expect(throws: CheckpointError.self) { try CheckpointFile.write(state, to: path) }
        state = sampleStateWithBuffers()
        state.scheduler?.scalars["type"] = 1
        #expect(throws: CheckpointError.self) { try CheckpointFile.write(state, to: path) }
        state = sampleStateWithBuffers()
        state.scheduler?.scalars["milestones"] = 1
        #expect(throws: CheckpointError.self) { try CheckpointFile.write(state, to: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func sgdStateForParametersOnlyReadsWithBuffersPresent() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var state = sampleStateWithBuffers(step: 7)
        state.optimizer = OptimizerState(type: "sgd", hyperParameters: ["lr": 0.1, "momentum": 0.9], step: 7,
                                         buffers: ["momentum_buffer": sampleFloats(sampleLayout.count, seed: 11)])
        state.scheduler = nil
        let path = directory.appendingPathComponent("sgd-bn.h5").path
        try CheckpointFile.write(state, to: path)
        #expect(try CheckpointFile.read(path) == state)

        // Optimizer state for a buffer is refused: buffers have none.
        let stray = directory.appendingPathComponent("stray.h5").path
        try CheckpointFile.write(state, to: stray)
        let add = try HDF5File.open(stray, readOnly: false)
        try add.writeDataset("/optimizer/1.running_mean/momentum_buffer", shape: [8],
                             values: [Float](repeating: 0, count: 8))
        try add.close()
        let error = try #require(throws: CheckpointError.self) { try CheckpointFile.read(stray) }
        #expect(error.description.contains("/optimizer/1.running_mean"), "\(error)")
    }
}
