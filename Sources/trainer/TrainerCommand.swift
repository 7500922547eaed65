import ArgumentParser

/// `trainer`: data-parallel neural-network training (local or under mpirun).
@main
struct TrainerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trainer",
        abstract: "Train neural networks in Swift, alone or across MPI ranks.",
        discussion: """
            Run `trainer train` alone on a laptop, or `mpirun -np 4 trainer train ...` to
            train one model across four ranks. `trainer bench` prints throughput figures.
            """,
        subcommands: [TrainCommand.self, BenchCommand.self, InspectCommand.self, EvalCommand.self, ExperimentCommand.self,
                      CheckDataCommand.self],
        defaultSubcommand: TrainCommand.self
    )
}
