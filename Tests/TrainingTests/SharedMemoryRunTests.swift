import DataParallel
import Foundation
import Testing

/// The node-local reduction (`SharedMemoryReducer`, the default for the
/// sharded optimizer when every rank is on one machine) under real mpirun:
/// gradients read in place from the peers' shared buffers, one parameter
/// copy per machine. Compared with the message path (`--no-shared-memory`).
extension DataParallelTests {
    @Test("Shared memory against messages changes no bit: parameters, every optimizer buffer and the metrics lines (np=2 and np=3 with uneven runs; the cnn with Adam, the mlp with SGD momentum and gradient accumulation)",
          arguments: [(2, ["--model", "cnn", "--optimizer", "adam", "--batch-size", "48"]),
                      (3, ["--model", "cnn", "--optimizer", "adam", "--batch-size", "48"]),
                      (3, ["--model", "mlp", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--accumulate", "2",
                           "--batch-size", "60"])])
    func sharedMemoryChangesNoBit(np: Int, model: [String]) throws {
        let flags = model + ["--max-steps", "25", "--checkpoint-every", "10"]
        let shared = try train(np: np, flags)
        let messages = try train(np: np, flags + ["--no-shared-memory"])
        // By construction: both paths run the same forward and backward on
        // each rank, and each rank adds its run's contributions of all ranks
        // in rank order with the same TreeSum, so no BLAS kernel can tell them apart.
        expectBitwiseEqual(messages, shared, "np=\(np) \(model.joined(separator: " "))")
    }

    @Test("Bytes per step and rank, counted by the bench at np=2, 4 and 8 (oversubscribed, not timed): none through MPI with shared memory, (W-1)/W of the gradient read in place; the message path hands MPI its sends, receives and the allgather")
    func sharedMemoryMovesNoBytesThroughMPI() throws {
        let bench = ["bench", "--workload", "mlp", "--mode", "default", "--steps", "3", "--batch-size", "64"]
        func figures(_ out: TestSupport.Output) throws -> [String: Any] {
            try #require(out.status == 0, "\(out.stdout)\(out.stderr)")
            let line = try #require(out.stdout.split(separator: "\n").first { $0.contains("\"workload\":\"mlp\"") })
            return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        let gradient = 101_770 * 4
        for np in [2, 4, 8] {
            let shared = try figures(try TestSupport.mpirun(np: np, bench))
            let messages = try figures(try TestSupport.mpirun(np: np, bench + ["--no-shared-memory"]))
            #expect(shared["transport_bytes_per_step"] as? Int == 0, "np=\(np): \(shared)")
            // Rank 0's run is 1/W of the buffer up to the 64-byte alignment of the runs.
            let read = try #require(shared["peer_read_bytes_per_step"] as? Int)
            #expect(abs(read - (np - 1) * gradient / np) <= (np - 1) * 64, "np=\(np): \(read) bytes read from peers")
            let through = try #require(messages["transport_bytes_per_step"] as? Int)
            // Out and in for its run's (W-1) contributions, then the whole buffer's allgather.
            #expect(abs(through - (2 * (np - 1) * gradient / np + gradient)) <= 2 * (np - 1) * 64,
                    "np=\(np): \(through) bytes through MPI")
            #expect(messages["peer_read_bytes_per_step"] as? Int == 0)
        }
    }
}
