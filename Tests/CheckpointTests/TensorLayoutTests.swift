import Checkpoint
import Testing

struct TensorLayoutTests {
    @Test func packsTensorsInOrder() {
        #expect(sampleLayout.offsets == [0, 40, 48, 72, 75])
        #expect(sampleLayout.count == 81)
        #expect(sampleLayout.range(of: 2) == 48..<72)
        #expect(sampleLayout.index(of: "2.bias") == 3 && sampleLayout.index(of: "4.bias") == nil)
        let scalar = TensorLayout(names: ["scale"], shapes: [[]])
        #expect(scalar.count == 1)
    }

    @Test func copiesByNameBetweenLayoutsInAnyOrder() {
        let values = (0..<sampleLayout.count).map(Float.init)
        var same = [Float](repeating: -1, count: sampleLayout.count)
        same.withUnsafeMutableBufferPointer { sampleLayout.copy(values, laidOutAs: sampleLayout, into: $0) }
        #expect(same == values)

        let reversed = TensorLayout(names: sampleLayout.names.reversed(), shapes: sampleLayout.shapes.reversed())
        var moved = [Float](repeating: -1, count: reversed.count)
        moved.withUnsafeMutableBufferPointer { reversed.copy(values, laidOutAs: sampleLayout, into: $0) }
        for (index, name) in reversed.names.enumerated() {
            let source = sampleLayout.index(of: name)!
            #expect(Array(moved[reversed.range(of: index)]) == Array(values[sampleLayout.range(of: source)]))
        }
    }

    @Test func snapshotsCopyAFlatBufferAndCompareBitwise() {
        let buffer = [Float](repeating: .nan, count: sampleLayout.count)
        let snapshot = buffer.withUnsafeBufferPointer { FlatTensors(layout: sampleLayout, copying: $0) }
        #expect(snapshot == snapshot)  // NaN payloads compare equal bit for bit
        #expect(snapshot["2.bias"]?.count == 3)
        var negative = FlatTensors(layout: sampleLayout, values: [Float](repeating: 0, count: sampleLayout.count))
        let positive = negative
        negative.values[0] = -0.0
        #expect(negative != positive)
    }
}
