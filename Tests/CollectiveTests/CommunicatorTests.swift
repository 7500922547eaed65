import Collective
import Testing

/// Single-process checks: run without mpirun, the world is one process, so
/// every reduction returns its input and every broadcast is a copy.
///
/// They run in `collective-selftest --singleton`, a process of their own, and
/// never in this test process: a singleton MPI_Init forks a daemon that
/// keeps the caller's file descriptors and environment, and doing that here,
/// while other tests spawn trainer processes, hung a run of the suite.
@Suite("Communicator as a one-process world")
struct CommunicatorTests {
    @Test("rank 0 of 1, MPI_THREAD_MULTIPLE, concurrent world(), allreduce, Iallreduce, broadcast and MPI errors as thrown errors")
    func singletonWorld() throws {
        let selftest = try #require(selftestExecutable(), "collective-selftest is not built next to the tests")
        let (status, output) = try run(selftest, ["--singleton"])
        #expect(status == 0, "collective-selftest --singleton exited \(status):\n\(output)")
        for check in ["world", "concurrent-world", "allreduce", "iallreduce", "broadcast", "mpi-error"] {
            #expect(output.contains("singleton \(check) ok"), "\(check): \(output)")
        }
    }
}
