// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "SwiftDDP",
    platforms: [.macOS(.v15)],  // Synchronization.Mutex
    products: [
        .executable(name: "trainer", targets: ["trainer"]),
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Optim", targets: ["Optim"]),
        .library(name: "DataLoading", targets: ["DataLoading"]),
        .library(name: "Collective", targets: ["Collective"]),
        .library(name: "SafeFiles", targets: ["SafeFiles"]),
        .library(name: "HDF5", targets: ["HDF5"]),
        .library(name: "Checkpoint", targets: ["Checkpoint"]),
        .library(name: "TrainingErrors", targets: ["TrainingErrors"]),
        .library(name: "DataFiles", targets: ["DataFiles"]),
        .library(name: "DataParallel", targets: ["DataParallel"]),
        .library(name: "RunLog", targets: ["RunLog"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "ModelZoo", targets: ["ModelZoo"]),
        .library(name: "Plotting", targets: ["Plotting"]),
        .library(name: "Experiments", targets: ["Experiments"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: C shims (Debian packages found through pkg-config)
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5-serial",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // libFuzzer's driver, linked only by `-sanitize=fuzzer` builds of fuzz-readers.
        .systemLibrary(name: "CLibFuzzer", path: "Sources/CLibFuzzer"),

        // MARK: Our own C kernels (loops that must vectorise)
        .target(name: "CKernels"),

        // MARK: Libraries (dependencies point one way: TensorCore <- everything)
        .target(name: "TensorCore", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "NN", dependencies: ["TensorCore"]),
        .target(name: "Optim", dependencies: ["TensorCore", "NN", "CKernels"]),
        .target(name: "DataLoading", dependencies: ["TensorCore", "CZlib", "SafeFiles"]),
        .target(name: "Collective", dependencies: ["CMPI"]),
        // Files created without following links, directories made safely.
        .target(name: "SafeFiles"),
        // The project's HDF5 library: h5py's files, read and written checked.
        .target(name: "HDF5", dependencies: ["CHDF5", "SafeFiles"]),
        .target(name: "Checkpoint", dependencies: ["HDF5", "SafeFiles", "CZlib"]),
        // The errors a run reports and the typed keys naming its options: the
        // layers below Training throw them too, without knowing the command line.
        .target(name: "TrainingErrors"),
        // A user's data in HDF5 files (`--data`), read a sample at a time.
        .target(name: "DataFiles", dependencies: ["DataLoading", "HDF5", "SafeFiles", "TrainingErrors"]),
        // Gradients averaged across ranks: buckets, the reducers (messages,
        // shared memory, the deterministic tree), the step agreement.
        .target(name: "DataParallel", dependencies: ["TensorCore", "NN", "Collective", "TrainingErrors"]),
        // What a run leaves to read: metrics lines, TensorBoard event files, progress.
        .target(name: "RunLog", dependencies: ["SafeFiles", "TrainingErrors"]),
        // The public fit API and the loop, checkpoints and resume.
        .target(name: "Training",
                dependencies: ["TensorCore", "NN", "Optim", "DataLoading", "Collective", "SafeFiles", "HDF5", "Checkpoint",
                               "TrainingErrors", "DataParallel", "RunLog", "DataFiles"]),
        // The course's models, their registry (`ModelSpec`: name, options,
        // task) and what runs them by name: `trainer train`'s job, `trainer eval`.
        .target(name: "ModelZoo",
                dependencies: ["TensorCore", "NN", "DataLoading", "Collective", "Checkpoint", "RunLog", "Training"]),

        // MARK: Figures and experiment campaigns (PNG through zlib; the course's campaigns as reports)
        .target(name: "Plotting", dependencies: ["CZlib"]),
        .target(name: "Experiments",
                dependencies: ["Training", "ModelZoo", "RunLog", "NN", "TensorCore", "DataLoading", "Collective", "SafeFiles", "Plotting"]),

        // MARK: Executable
        .executableTarget(name: "trainer", dependencies: [
            "Training", "ModelZoo", "RunLog", "DataParallel", "Optim", "NN", "TensorCore", "Collective", "DataLoading",
            "SafeFiles", "HDF5", "Checkpoint", "Experiments", "UserModels",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Run under mpirun by CollectiveTests: checks collectives across real ranks.
        .executableTarget(name: "collective-selftest", dependencies: ["Collective"]),
        // Run by CheckpointTests: writes checkpoints in a loop until SIGKILLed
        // mid-write, and measures snapshot and write times.
        .executableTarget(name: "checkpoint-writer-selftest", dependencies: ["Checkpoint"]),

        // MARK: Fuzzing (`./launch fuzz TARGET SECONDS`; see Sources/fuzz-readers)
        // A corpus replayer in a normal build, run by TrainingTests over
        // Tests/FuzzCorpus; a libFuzzer binary built with -DFUZZING -sanitize=fuzzer,address.
        .executableTarget(name: "fuzz-readers", dependencies: ["CLibFuzzer", "SafeFiles", "HDF5", "Checkpoint", "DataLoading",
                                                               "DataFiles"]),

        // MARK: Examples (user programs: the public API only, as another package would use it)
        .executableTarget(name: "own-model", dependencies: ["DataLoading", "NN", "TensorCore", "Training"],
                          path: "Examples/OwnModel"),
        .executableTarget(name: "least-squares", dependencies: ["DataLoading", "NN", "Optim", "TensorCore", "Training"],
                          path: "Examples/LeastSquares"),
        // The user-shaped models `trainer bench` times (user-*) and
        // scripts/torch-bench.py rebuilds in PyTorch; user-model trains one.
        .executableTarget(name: "record-file", dependencies: ["DataLoading", "NN", "TensorCore", "Training"],
                          path: "Examples/RecordFile"),
        .target(name: "UserModels", dependencies: ["DataLoading", "NN", "TensorCore"], path: "Examples/UserModels"),
        .executableTarget(name: "user-model", dependencies: ["DataLoading", "NN", "TensorCore", "Training", "UserModels"],
                          path: "Examples/UserModel"),

        // MARK: Tests
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TensorCore", "TensorExpectations"]),
        .testTarget(name: "ModelZooTests", dependencies: ["ModelZoo", "NN", "TensorCore", "TensorExpectations"]),
        .testTarget(name: "OptimTests", dependencies: ["Optim", "NN", "TensorCore"]),
        .testTarget(name: "DataLoadingTests", dependencies: ["DataLoading", "TensorCore", "CZlib"]),
        .testTarget(name: "CollectiveTests", dependencies: ["Collective"]),
        // Test helpers shared by more than one test target.
        .target(name: "PlantedLinks", path: "Tests/PlantedLinks"),
        // Random tensors, closeness and gradient checks, for the NN and model-zoo tests.
        .target(name: "TensorExpectations", dependencies: ["TensorCore"], path: "Tests/TensorExpectations"),
        .testTarget(name: "CheckpointTests", dependencies: ["SafeFiles", "HDF5", "Checkpoint", "DataFiles", "PlantedLinks"]),
        .testTarget(name: "TrainingTests",
                    dependencies: ["Training", "ModelZoo", "DataParallel", "RunLog", "NN", "Optim", "TensorCore", "DataLoading", "SafeFiles",
                                   "HDF5", "Checkpoint", "DataFiles", "PlantedLinks"]),
        .testTarget(name: "DataParallelTests", dependencies: ["DataParallel", "NN", "TensorCore"]),
        .testTarget(name: "RunLogTests", dependencies: ["RunLog"]),
        .testTarget(name: "PlottingTests", dependencies: ["Plotting", "CZlib"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Plotting"]),
    ]
)
