import Foundation
import TensorCore
import Testing

/// A caller's mistake stops the program with the library's message in every
/// build: the suite runs optimised (`-c release`), where `precondition`
/// printed nothing but a backtrace.
@Test("A shape mistake stops the process with the library's message, also in an optimised build")
func shapeMistakeSaysWhatIsWrong() async throws {
    let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        let x = Tensor.zeros([1, 3136]), weight = Tensor.zeros([10, 4096])
        _ = Tensor.linear(x, weight: weight, bias: nil)
    }
    let message = String(decoding: result.standardErrorContent, as: UTF8.self)
    #expect(message.contains("linear: input [1, 3136] does not match weight [10, 4096]"), "\(message)")
}
