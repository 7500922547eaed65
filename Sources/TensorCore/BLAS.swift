import CBLAS

/// The BLAS seam: the only place TensorCore calls into OpenBLAS.
public enum BLAS {
    /// Sets how many threads OpenBLAS uses. One per MPI rank; more when alone.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(n))
    }
}
