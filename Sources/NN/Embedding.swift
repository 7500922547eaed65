import TensorCore

/// A table of `numEmbeddings` vectors of `embeddingDim` looked up by index,
/// as PyTorch's nn.Embedding: parameter `weight` [numEmbeddings, embeddingDim],
/// initialised N(0, 1) like PyTorch. The input holds indices as integral
/// Floats (every tensor here is Float32) of any shape; the output appends
/// embeddingDim. Backward adds each output row's gradient into the row it
/// came from.
public final class Embedding: Module {
    public let weight: Tensor

    public init(_ numEmbeddings: Int, _ embeddingDim: Int, generator: inout RandomGenerator) {
        ensure(numEmbeddings > 0 && embeddingDim > 0,
                     "Embedding sizes must be positive, got \(numEmbeddings) embeddings of dimension \(embeddingDim)")
        weight = .normal([numEmbeddings, embeddingDim], generator: &generator, requiresGrad: true)
    }

    public var numEmbeddings: Int { weight.shape[0] }
    public var embeddingDim: Int { weight.shape[1] }

    public func forward(_ input: Tensor) -> Tensor { Tensor.embedding(input, weight: weight) }

    public var localParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }

    public var configurationDescription: String { "\(numEmbeddings), \(embeddingDim)" }
}
