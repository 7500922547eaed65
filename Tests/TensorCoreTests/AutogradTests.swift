import Foundation
import Testing
import TensorCore

// How backward walks the graph: accumulation, order, recording, the ready callback.

@Test func tensorUsedTwiceGetsBothContributions() {
    let x = Tensor([1.5, -2, 3], requiresGrad: true)
    (x * x).sum().backward()
    #expect(x.grad?.scalars == [3, -4, 6])

    let y = Tensor([1.5, -2, 3], requiresGrad: true)
    (y + y).sum().backward()
    #expect(y.grad?.scalars == [2, 2, 2])
}

@Test func diamondGraph() {
    // a -> b = 2a, c = exp(a) -> d = b * c: dd/da = 2 exp(a) + 2a exp(a).
    let a = Tensor([0.5, -1], requiresGrad: true)
    let b = a * 2
    let c = a.exp()
    (b * c).sum().backward()
    let expected = [0.5, -1.0].map { 2 * exp($0) * (1 + $0) }
    expectClose(a.grad!.scalars, expected)
}

@Test func sharedSubexpressionRunsItsRuleOnce() {
    // h is used by two consumers; its rule must run once, after both added in.
    let x = Tensor([2], requiresGrad: true)
    let h = x * x          // 4
    let y = h * h + h * 3  // dy/dh = 2h + 3 = 11, dh/dx = 2x = 4
    y.sum().backward()
    #expect(x.grad?.scalars == [44])
}

@Test func noGradRecordsNothing() {
    let x = Tensor([1, 2, 3], requiresGrad: true)
    let y = withNoGrad { (x * 2).exp().sum() }
    #expect(!y.requiresGrad)
    #expect(y.isLeaf)
    #expect(x.grad == nil)
    // Recording is back on afterwards.
    let z = (x * 2).sum()
    #expect(z.requiresGrad)
    #expect(!z.isLeaf)
}

@Test func outputsOfConstantsDoNotRequireGrad() {
    let a = Tensor([1, 2])
    let b = Tensor([3, 4])
    let c = (a * b).exp()
    #expect(!c.requiresGrad)
    #expect(c.isLeaf)
    #expect((c * Tensor([1, 1], requiresGrad: true)).requiresGrad)
}

@Test func gradientsFlowOnlyToInputsThatRequireThem() {
    let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
    let b = Tensor([1, 1, 1], requiresGrad: true)
    (a * b).sum().backward()
    #expect(b.grad?.scalars == [5, 7, 9])  // broadcast: summed over rows
    #expect(a.grad == nil)
}

@Test func detachedSharesMemoryButNotTheGraph() {
    let x = Tensor([1, 2], requiresGrad: true)
    let y = x * 3
    let d = y.detached()
    #expect(!d.requiresGrad)
    #expect(d.isLeaf)
    #expect(d.data == y.data)
}

@Test func gradientsAccumulateUntilZeroed() {
    let x = Tensor([1, 2], requiresGrad: true)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    #expect(x.grad?.scalars == [6, 6])
    x.zeroGrad()
    #expect(x.grad?.scalars == [0, 0])
    (x * x).sum().backward()
    #expect(x.grad?.scalars == [2, 4])
}

@Test func retainGraphAllowsASecondBackward() {
    let x = Tensor([1, 2], requiresGrad: true)
    let y = (x * x).sum()
    y.backward(retainGraph: true)
    y.backward()
    #expect(x.grad?.scalars == [4, 8])
}

@Test func backwardWithAnExplicitGradient() {
    let x = Tensor([1, 2, 3], requiresGrad: true)
    let y = x * x
    y.backward(gradient: Tensor([1, 0, -1]))
    #expect(x.grad?.scalars == [2, 0, -6])
}

@Test func intermediateGradientsAreReleased() {
    let x = Tensor([1, 2], requiresGrad: true)
    let h = x * 2
    let y = h.sum()
    y.backward()
    #expect(h.grad == nil)
    #expect(h.isLeaf)  // the graph is freed unless retainGraph
    #expect(x.grad?.scalars == [2, 2])
}

@Test func deepChainDoesNotOverflowTheStack() {
    // 10,000 recorded ops; recursion per node would overflow the stack.
    let x = Tensor([1, 1], requiresGrad: true)
    var y = x
    for _ in 0..<10_000 { y = y * 1.0001 }
    let value = y.scalars[0]
    y.sum().backward()
    // Forward and backward multiply by the same Float in the same order.
    #expect(x.grad?.scalars == [value, value])
    #expect(abs(value - 2.7181459) < 1e-3)  // 1.0001^10000
}

@Test func deepChainCanBeDroppedWithoutBackward() {
    // Releasing an unused 10,000-node graph must not recurse node by node.
    let x = Tensor([1], requiresGrad: true)
    var y = x
    for _ in 0..<10_000 { y = y + 1 }
    #expect(y.scalars == [10_001])
    y = x
    #expect(y.isLeaf)
}

@Test func leafGradientReadyCallback() {
    // A two-layer net; `scale` is used first and last, so it is ready last.
    let x = randomTensor([4, 3], seed: 40)
    let w1 = randomTensor([5, 3], seed: 41)
    let b1 = randomTensor([5], seed: 42)
    let w2 = randomTensor([2, 5], seed: 43)
    let b2 = randomTensor([2], seed: 44)
    let scale = Tensor(scalar: 0.7)
    let leaves = [w1, b1, w2, b2, scale]
    for leaf in leaves { leaf.requiresGrad = true }

    let h = Tensor.linear(x * scale, weight: w1, bias: b1).tanh()
    let loss = (Tensor.linear(h, weight: w2, bias: b2) * scale).pow(2).mean()

    var order: [ObjectIdentifier] = []
    var snapshots: [ObjectIdentifier: [Float]] = [:]
    loss.backward { leaf in
        order.append(ObjectIdentifier(leaf))
        snapshots[ObjectIdentifier(leaf)] = leaf.grad?.scalars
    }

    #expect(order.count == leaves.count)  // each leaf once; x (no grad) never
    #expect(Set(order) == Set(leaves.map(ObjectIdentifier.init)))
    for leaf in leaves {
        // Nothing was added after the callback.
        #expect(snapshots[ObjectIdentifier(leaf)] == leaf.grad?.scalars)
    }
    let position = { (t: Tensor) in order.firstIndex(of: ObjectIdentifier(t))! }
    #expect(position(w2) < position(w1))
    #expect(position(b2) < position(b1))
    #expect(position(scale) == leaves.count - 1)
}

@Test func leafGradientReadyCallbackWithALeafUsedManyTimes() {
    // x feeds every step of a chain: it is ready only once the walk reaches the bottom.
    let x = Tensor([0.5, -0.25], requiresGrad: true)
    var y = x
    for _ in 0..<20 { y = (y * x).tanh() + x }
    var calls = 0
    var snapshot: [Float]? = nil
    y.sum().backward { leaf in
        calls += 1
        snapshot = leaf.grad?.scalars
    }
    #expect(calls == 1)
    #expect(snapshot == x.grad?.scalars)
}

/// The ops whose backward writes a gradient's first part instead of adding
/// it (`gradientForWriting`), each as a function of the input `x` [2, 2, 4, 4].
let writingOps: [(name: String, op: @Sendable (Tensor) -> Tensor)] = [
    ("relu", { $0.relu() }),
    ("maxPool2d", { Tensor.maxPool2d($0, kernelSize: 2) }),
    ("linear", { Tensor.linear($0.reshaped([2, 32]), weight: randomTensor([5, 32], seed: 31), bias: nil) }),
    ("matmul as A", { Tensor.matmul($0.reshaped([2, 32]), randomTensor([32, 3], seed: 32)) }),
    ("matmul as B", { Tensor.matmul(randomTensor([3, 2], seed: 33), $0.reshaped([2, 32])) }),
    ("conv2d", { Tensor.conv2d($0, weight: randomTensor([3, 2, 3, 3], seed: 34), bias: nil, padding: 1) }),
    ("conv2d stride 2", { Tensor.conv2d($0, weight: randomTensor([3, 2, 3, 3], seed: 35), bias: nil, stride: 2, padding: 1) }),
    ("conv2d by Winograd", { Tensor.conv2d($0.reshaped([1, 16, 2, 2]), weight: randomTensor([16, 16, 3, 3], seed: 36), bias: nil, padding: 1) }),
    ("batchNorm", { Tensor.batchNorm($0, runningMean: nil, runningVar: nil, training: true) }),
]

@Test("A gradient's first part is written and later parts are added: an input read twice gets exactly twice the gradient, and a second backward adds to the first",
      arguments: writingOps.indices)
func firstGradientPartIsWrittenLaterPartsAdded(_ index: Int) {
    let (name, op) = writingOps[index]
    let values = randomTensor([2, 2, 4, 4], seed: 30)
    func input() -> Tensor {
        let x = values.copy()
        x.requiresGrad = true
        return x
    }
    let once = input()
    let y = op(once)
    let upstream = randomTensor(y.shape, seed: 36)
    y.backward(gradient: upstream)
    let single = once.grad?.scalars ?? []

    let twice = input()
    (op(twice) + op(twice)).backward(gradient: upstream)
    #expect(twice.grad?.scalars == single.map { $0 + $0 }, "\(name): read twice")
    op(twice).backward(gradient: upstream)  // no zeroGrad: adds to what is there
    #expect(twice.grad?.scalars == single.map { ($0 + $0) + $0 }, "\(name): a second backward")
}
