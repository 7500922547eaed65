import Checkpoint
import Testing

struct CheckpointExpectationTests {
    private let expected = CheckpointExpectation(
        model: "mlp", modelConfig: #"{"name":"mlp","hidden":128,"classes":10,"inputShape":[1,28,28]}"#,
        parameters: sampleLayout, optimizerType: "adam", optimizerStateNames: ["exp_avg_sq", "exp_avg"])

    @Test func aMatchingCheckpointPasses() throws {
        // Same configuration with its keys in another order.
        #expect(expected.differences(from: sampleState()).isEmpty)
        try expected.check(LoadedCheckpoint(path: "ckpt-00001200.h5", state: sampleState()))
    }

    @Test func everyDifferenceIsNamed() throws {
        var run = expected
        run.modelConfig = #"{"name":"mlp","hidden":256,"classes":10,"inputShape":[3,32,32]}"#
        run.parameters = TensorLayout(names: ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight"],
                                      shapes: [[8, 5], [8], [3, 8], [5], [2, 3]])
        run.optimizerType = "sgd"
        var state = sampleState()
        state.model = "mlp"

        let error = try #require(throws: CheckpointError.self) {
            try run.check(LoadedCheckpoint(path: "/runs/a/ckpt-00001200.h5", state: state))
        }
        guard case let .incompatible(file, differences) = error else {
            Issue.record("expected incompatible, got \(error)")
            return
        }
        #expect(file == "/runs/a/ckpt-00001200.h5")
        #expect(differences == [
            "model_config.hidden: the checkpoint has 128, this run has 256",
            "model_config.inputShape: the checkpoint has [1,28,28], this run has [3,32,32]",
            "missing parameters (in this run, not in the checkpoint): 4.weight",
            "unexpected parameters (in the checkpoint, not in this run): 10.weight",
            "parameter '2.bias': shape [3] in the checkpoint, [5] in this run",
            "optimizer: the checkpoint has 'adam', this run has 'sgd'",
        ])
        #expect(error.description.hasPrefix("checkpoint '/runs/a/ckpt-00001200.h5' does not match this run:\n"))
        #expect(error.description.contains("  - parameter '2.bias': shape [3] in the checkpoint, [5] in this run"))
    }

    @Test func modelNameStateNamesAndNonJSONConfigsAreCompared() {
        var run = expected
        run.model = "softmax"
        run.modelConfig = "plain text"
        run.optimizerStateNames = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        #expect(run.differences(from: sampleState()) == [
            "model: the checkpoint has 'mlp', this run has 'softmax'",
            "model_config: the checkpoint has \(sampleState().modelConfig), this run has plain text",
            "optimizer state: the checkpoint has [\"exp_avg\", \"exp_avg_sq\"], "
                + "this run needs [\"exp_avg\", \"exp_avg_sq\", \"max_exp_avg_sq\"]",
        ])
    }

    @Test func buffersAndTheScheduleAreComparedWhenAsked() {
        var run = expected
        #expect(run.differences(from: sampleStateWithBuffers()).isEmpty)  // not asked: not compared
        run.buffers = sampleBufferLayout
        run.schedulerType = "multistep"
        #expect(run.differences(from: sampleStateWithBuffers()).isEmpty)

        run.buffers = TensorLayout(names: ["1.running_mean", "1.running_var", "3.running_mean"],
                                   shapes: [[8], [16], [4]])
        run.schedulerType = "cosine"
        #expect(run.differences(from: sampleStateWithBuffers()) == [
            "missing buffers (in this run, not in the checkpoint): 3.running_mean",
            "unexpected buffers (in the checkpoint, not in this run): 1.num_batches_tracked",
            "buffer '1.running_var': shape [8] in the checkpoint, [16] in this run",
            "lr schedule: the checkpoint's run used lr schedule 'multistep', this run asks for 'cosine'",
        ])
        // A checkpoint without buffers or a scheduler, for a run with both.
        #expect(run.differences(from: sampleState()) == [
            "missing buffers (in this run, not in the checkpoint): 1.running_mean, 1.running_var, 3.running_mean",
            "lr schedule: the checkpoint's run used no lr schedule, this run asks for 'cosine'",
        ])
        // A run without a scheduler accepts a checkpoint with one.
        run.schedulerType = nil
        run.buffers = sampleBufferLayout
        #expect(run.differences(from: sampleStateWithBuffers()).isEmpty)
    }
}
