import ModelZoo
import Testing
import Training

/// The typed key of `TrainingError.invalidOption`: the command line reads
/// the flag, a Swift program the field it set.
@Suite("OptionKey: an option error names the flag or the Swift field")
struct OptionKeyTests {
    @Test("A bad batchSize: description names --batch-size (what trainer prints), swiftDescription names batchSize")
    func bothNames() throws {
        var options = TrainingOptions()
        options.batchSize = 0
        let error = try #require(throws: TrainingError.self) { try options.validate() }
        guard case .invalidOption(let key, _) = error else {
            Issue.record("not an option error: \(error)")
            return
        }
        #expect(key == .batchSize)
        #expect(error.description == "--batch-size: must be between 1 and \(TrainingOptions.maximumBatch), got 0")
        #expect(error.swiftDescription == "batchSize: must be between 1 and \(TrainingOptions.maximumBatch), got 0")
        #expect(TrainingError.isPermanent(error))
    }

    @Test("A model option is named by its path in TrainingConfiguration (model.hidden)")
    func modelOption() throws {
        let error = try #require(throws: TrainingError.self) { try ModelSpec(name: "mlp", hidden: 0).validate() }
        #expect(error.swiftDescription == "model.hidden: must be positive, got 0")
        #expect(error.description == "--hidden: must be positive, got 0")
    }

    @Test("Every key has a flag, or its Swift name stands in; no two options share a flag but the data's own")
    func flags() {
        for key in OptionKey.allCases {
            #expect(key.flag.hasPrefix("--") || key.flag == key.swiftName, "\(key)")
        }
        let flags = Dictionary(grouping: OptionKey.allCases, by: \.flag).filter { $0.value.count > 1 }
        // The model's classes and input shape come from the data set or file.
        #expect(Set(flags.keys) == ["--data", "--dataset"], "\(flags)")
    }

    @Test("--micro-batches without --deterministic is refused by the configuration")
    func microBatchesNeedDeterministic() {
        var c = TrainingConfiguration(model: ModelSpec(name: "mlp"))
        c.microBatches = 4
        #expect(throws: TrainingError.self) { try c.validate() }
        c.deterministic = true
        #expect(throws: Never.self) { try c.validate() }
    }
}
