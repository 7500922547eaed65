import TensorCore
import Testing

@Suite("Storage")
struct StorageTests {
    @Test("allFinite finds a NaN or an infinity anywhere, and accepts the largest finite values",
          arguments: [1, 7, 8, 9, 1000, 100_003])
    func allFinite(count: Int) {
        let storage = Storage(count: count)
        for i in 0..<count { storage.base[i] = Float(i % 17) - 8 }
        storage.base[count / 2] = .greatestFiniteMagnitude
        #expect(storage.allFinite)
        for bad in [Float.nan, .infinity, -.infinity] {
            for position in Set([0, count / 3, count - 1]) {
                let saved = storage.base[position]
                storage.base[position] = bad
                #expect(!storage.allFinite, "\(bad) at \(position) of \(count)")
                storage.base[position] = saved
            }
        }
        #expect(Storage(count: 0).allFinite)
    }
}
