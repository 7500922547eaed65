import CBLAS

/// The BLAS seam: the only place TensorCore calls into OpenBLAS.
public enum BLAS {
    /// Sets how many threads OpenBLAS uses. One per MPI rank; more when alone.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(clamping: n))
    }

    /// The kernel OpenBLAS chose for this CPU (e.g. "Haswell", "Cooperlake"):
    /// another kernel adds in another order, so results differ in the last bits.
    public static var coreName: String {
        openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// OpenBLAS's build description (version, threading, architecture).
    public static var configuration: String {
        openblas_get_config().map { String(cString: $0) } ?? "unknown"
    }
}
