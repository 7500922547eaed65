import Foundation
import Testing

extension RestartTests {
    /// `trainer inspect`, `trainer eval` and HDF5's own h5dump on checkpoints
    /// that `trainer train` wrote.
    @Suite("trainer inspect, trainer eval and h5dump on trainer checkpoints")
    final class CheckpointCommands {
        let scratch: URL
        let trainer: URL
        /// A 30-step run of the 784-32-10 MLP with Adam, a checkpoint every 10 steps.
        let run: RunFolder

        init() throws {
            scratch = try TestSupport.temporaryDirectory()
            trainer = try #require(TestSupport.trainerExecutable)
            run = try RunFolder(scratch, "run", flags: ["--model", "mlp", "--hidden", "32", "--max-steps", "30",
                                                       "--checkpoint-every", "10"])
            let out = try TestSupport.runTrainer(np: 1, run.command, log: run.log("train"))
            try #require(out.status == 0, "\(out.stdout)")
        }

        deinit { try? FileManager.default.removeItem(at: scratch) }

        @Test("inspect: a valid checkpoint (or its directory) exits 0 listing names and shapes; a corrupt one exits 1 naming the damaged dataset")
        func inspect() throws {
            let valid = try TestSupport.run(trainer, ["inspect", run.checkpoint(30)])
            #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
            for line in ["valid: yes", "global_step     30", "model           mlp", "/model: 4 datasets",
                         "1.weight  [32, 784]", "1.bias    [32]", "3.weight  [10, 32]", "3.bias    [10]",
                         "type          adam", "step          30", "1.weight/exp_avg_sq"] {
                #expect(valid.stdout.contains(line), "no '\(line)' in:\n\(valid.stdout)")
            }
            let directory = try TestSupport.run(trainer, ["inspect", run.checkpoints])
            #expect(directory.status == 0 && directory.stdout.contains("checkpoint \(run.checkpoint(30)) "))

            let damaged = scratch.appendingPathComponent("damaged.h5").path
            try FileManager.default.copyItem(atPath: run.checkpoint(30), toPath: damaged)
            let dataset = try TestSupport.corruptTensorData(of: damaged)
            let corrupt = try TestSupport.run(trainer, ["inspect", damaged])
            #expect(corrupt.status == 1)
            #expect(corrupt.stdout.contains("valid: NO: checkpoint '\(damaged)': dataset '\(dataset)' is corrupt"),
                    "\(corrupt.stdout)")
            #expect(corrupt.stdout.contains("MISMATCH"))
        }

        @Test("eval --checkpoint prints the same test loss and accuracy alone and under mpirun -np 2, those the training run reported; a corrupt checkpoint is an error")
        func eval() throws {
            let alone = try TestSupport.run(trainer, ["eval", "--checkpoint", run.checkpoint(30)])
            #expect(alone.status == 0, "\(alone.stdout)\(alone.stderr)")
            let ranks = try TestSupport.mpirun(np: 2, ["eval", "--checkpoint", run.checkpoint(30)])
            #expect(ranks.status == 0, "\(ranks.stdout)\(ranks.stderr)")
            let pattern = /test set \(10000 samples\): test_loss (\d+\.\d+) test_accuracy (\d+\.\d+)/
            let a = try #require(alone.stdout.firstMatch(of: pattern), "\(alone.stdout)")
            let b = try #require(ranks.stdout.firstMatch(of: pattern), "\(ranks.stdout)")
            #expect(a.output.2 == b.output.2, "accuracy alone \(a.output.2), np=2 \(b.output.2)")
            // Sums in another order may round the fourth decimal the other way.
            let lossAlone = try #require(Double(a.output.1)), lossRanks = try #require(Double(b.output.1))
            #expect(abs(lossAlone - lossRanks) <= 1e-4, "test_loss alone \(lossAlone), np=2 \(lossRanks)")
            // The run's own evaluation of the same parameters at step 30.
            let metrics = try String(contentsOfFile: run.metrics, encoding: .utf8)
            let record = try #require(try JSONSerialization.jsonObject(with: Data(metrics.utf8)) as? [String: Any])
            let accuracy = try #require(record["test_accuracy"] as? Double)
            #expect(String(format: "%.4f", accuracy) == String(a.output.2))

            let damaged = scratch.appendingPathComponent("damaged.h5").path
            try FileManager.default.copyItem(atPath: run.checkpoint(30), toPath: damaged)
            let dataset = try TestSupport.corruptTensorData(of: damaged)
            let corrupt = try TestSupport.run(trainer, ["eval", "--checkpoint", damaged])
            #expect(corrupt.status != 0)
            #expect((corrupt.stdout + corrupt.stderr).contains("dataset '\(dataset)' is corrupt"))
        }

        @Test("h5dump reads a trainer checkpoint as it is: /model/<name> float32 datasets with their shapes, /optimizer's type and step, the root attributes, every string UTF-8",
              .enabled(if: CheckpointCommands.h5dump != nil, "h5dump (hdf5-tools) is not on PATH"))
        func h5dump() throws {
            let h5dump = try #require(Self.h5dump)
            let out = try TestSupport.run(h5dump, ["-A", run.checkpoint(30)])
            #expect(out.status == 0, "\(out.stderr)")
            let dump = H5Dump(out.stdout)
            let shapes = ["1.weight": "( 32, 784 )", "1.bias": "( 32 )", "3.weight": "( 10, 32 )", "3.bias": "( 10 )"]
            for (name, shape) in shapes {
                let dataset = try #require(dump.objects["/model/\(name)"], "no /model/\(name)")
                #expect(dataset.datatype == "H5T_IEEE_F32LE")
                #expect(dataset.dataspace == "SIMPLE { \(shape) / \(shape) }")
                #expect(dump.objects["/model/\(name)@crc32"]?.datatype == "H5T_STD_U32LE")
                for state in ["exp_avg", "exp_avg_sq"] {
                    #expect(dump.objects["/optimizer/\(name)/\(state)"]?.dataspace == "SIMPLE { \(shape) / \(shape) }")
                }
            }
            #expect(dump.value("/optimizer@type") == "\"adam\"")
            #expect(dump.value("/optimizer@step") == "30")
            #expect(dump.value("/optimizer@lr") == "0.001")
            let root = ["epoch": "0", "iteration": "30", "global_step": "30", "samples_seen": "1920", "world_size": "1",
                        "batch_size": "64", "seed": "0", "format_version": "1", "format": "\"swiftddp-checkpoint\"",
                        "model": "\"mlp\"", "dataset": "\"fashion-mnist\"",
                        "model_config": #""{"classes":10,"depth":3,"hidden":32,"inputShape":[1,28,28],"latent":64,"layers":[500,100,30],"loss":"bce","name":"mlp","task":"classify"}""#]
            for (name, value) in root { #expect(dump.value("/@\(name)") == value, "/@\(name)") }
            for name in ["epoch", "iteration", "global_step", "samples_seen", "world_size", "batch_size"] {
                #expect(dump.objects["/@\(name)"]?.datatype == "H5T_STD_I64LE", "/@\(name)")
            }
            let strings = dump.objects.filter { $0.key.contains("@") && $0.value.datatype.hasPrefix("H5T_STRING") }
            #expect(Set(strings.keys).isSuperset(of: ["/@format", "/@model", "/@model_config", "/@dataset", "/@created",
                                                      "/optimizer@type", "/extra@epoch_loss_sum"]))
            for (key, string) in strings {
                #expect(string.datatype.contains("CSET H5T_CSET_UTF8;") && string.datatype.contains("STRSIZE H5T_VARIABLE;"),
                        "\(key): \(string.datatype)")
            }
        }

        static let h5dump: URL? = {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("h5dump") }
                .first { FileManager.default.isExecutableFile(atPath: $0.path) }
        }()
    }
}

/// The objects of `h5dump -A` output (headers and attributes, no dataset
/// values), by path: "/model/1.weight" for a dataset, "/optimizer@type" and
/// "/@global_step" for attributes.
struct H5Dump {
    struct Object {
        /// "H5T_IEEE_F32LE", or "H5T_STRING { STRSIZE H5T_VARIABLE; ... }" on one line.
        var datatype = ""
        /// "SCALAR" or "SIMPLE { ( 32, 784 ) / ( 32, 784 ) }".
        var dataspace = ""
        /// Attribute values without their "(0): " indices.
        var data: [String] = []
    }

    private(set) var objects: [String: Object] = [:]

    /// An attribute's value as h5dump prints it (strings in double quotes).
    func value(_ key: String) -> String? { objects[key].map { $0.data.joined(separator: " ") } }

    init(_ text: String) {
        // Each "... {" line opens a block and each "}" line closes one.
        // Groups, datasets and attributes are objects; DATATYPE and DATA
        // blocks add to the innermost object.
        var stack: [(key: String?, isContainer: Bool, section: String)] = []
        func containerPath() -> String { stack.last { $0.isContainer }?.key ?? "" }
        func objectKey() -> String? { stack.last { $0.key != nil }?.key }
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line == "}" {
                _ = stack.popLast()
                continue
            }
            if line.hasSuffix("{") {
                let header = line.dropLast().trimmingCharacters(in: .whitespaces)
                let parts = header.split(separator: " ", maxSplits: 1)
                let kind = parts.first.map(String.init) ?? ""
                let name = parts.count > 1 ? parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) : ""
                switch kind {
                case "GROUP", "DATASET":
                    let parent = containerPath()
                    let path = name == "/" ? "/" : (parent == "/" ? "/" : parent + "/") + name
                    objects[path] = Object()
                    stack.append((path, true, ""))
                case "ATTRIBUTE":
                    let key = containerPath() + "@" + name
                    objects[key] = Object()
                    stack.append((key, false, ""))
                case "DATATYPE":
                    if let key = objectKey() {
                        objects[key]?.datatype = header.dropFirst(kind.count).trimmingCharacters(in: .whitespaces) + " {"
                    }
                    stack.append((nil, false, "DATATYPE"))
                default:
                    stack.append((nil, false, kind))
                }
                continue
            }
            guard let key = objectKey() else { continue }
            switch stack.last?.section {
            case "DATATYPE":
                objects[key]?.datatype += " " + line
            case "DATA":
                let value = line.firstRange(of: #/^\(\d+\): /#).map { String(line[$0.upperBound...]) } ?? line
                objects[key]?.data.append(value)
            default:
                if line.hasPrefix("DATATYPE") {
                    objects[key]?.datatype = line.dropFirst("DATATYPE".count).trimmingCharacters(in: .whitespaces)
                } else if line.hasPrefix("DATASPACE") {
                    objects[key]?.dataspace = line.dropFirst("DATASPACE".count).trimmingCharacters(in: .whitespaces)
                }
            }
        }
    }
}
