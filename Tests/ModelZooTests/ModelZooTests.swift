import ModelZoo
import NN
import TensorExpectations
import Testing
import TensorCore

// The model zoo: layers, parameter names (PyTorch state_dict keys), counts,
// output shapes, and the tied auto-encoder's shared weight.

/// Names and shapes of a module's parameters, in registration order.
private func parameterShapes(_ module: any Module) -> [String] {
    module.namedParameters().map { "\($0.name) \($0.tensor.shape)" }
}

@Suite("Conv2d and MaxPool2d layers")
struct ConvolutionLayerTests {
    @Test("Conv2d: weight [out, in, k, k], bias [out], PyTorch's U(±1/sqrt(in*k*k)) initialisation")
    func conv2dParameters() {
        var generator = RandomGenerator(seed: 1)
        let conv = Conv2d(3, 6, 5, generator: &generator)
        #expect(conv.weight.shape == [6, 3, 5, 5])
        #expect(conv.bias?.shape == [6])
        #expect(conv.namedParameters().map(\.name) == ["weight", "bias"])
        #expect(conv.parameterCount == 6 * 3 * 25 + 6)
        let bound = 1 / Float(3 * 25).squareRoot()
        let values = conv.weight.scalars + conv.bias!.scalars
        #expect(values.allSatisfy { abs($0) <= bound })
        #expect(values.max()! > 0.9 * bound && values.min()! < -0.9 * bound)
        #expect(conv.configurationDescription == "3 -> 6, 5x5")
        let strided = Conv2d(1, 2, 3, stride: 2, padding: 1, bias: false, generator: &generator)
        #expect(strided.bias == nil)
        #expect(strided.namedParameters().map(\.name) == ["weight"])
        #expect(strided.configurationDescription == "1 -> 2, 3x3, stride 2, padding 1")
    }

    @Test("Conv2d's forward is conv2d with its stride and padding")
    func conv2dForward() {
        var generator = RandomGenerator(seed: 2)
        let conv = Conv2d(2, 3, 3, stride: 2, padding: 1, generator: &generator)
        let x = randomTensor([2, 2, 9, 9], seed: 3)
        let y = conv(x)
        #expect(y.shape == [2, 3, 5, 5])
        #expect(y.scalars == Tensor.conv2d(x, weight: conv.weight, bias: conv.bias, stride: 2, padding: 1).scalars)
    }

    @Test("MaxPool2d: stride defaults to the kernel size; no parameters")
    func maxPool() {
        let pool = MaxPool2d(2)
        #expect(pool.stride == 2)
        #expect(pool.namedParameters().isEmpty)
        #expect(pool(Tensor.zeros([1, 8, 24, 24])).shape == [1, 8, 12, 12])
        #expect(MaxPool2d(3, stride: 1)(Tensor.zeros([1, 1, 5, 5])).shape == [1, 1, 3, 3])
        #expect(pool.configurationDescription == "2x2")
    }
}

@Suite("Model zoo")
struct ModelZooTests {
    @Test("cnn: conv1, conv2, fc; 8*1*25+8 + 16*8*25+16 + 256*10+10 = 5,994 parameters")
    func cnn() {
        var generator = RandomGenerator(seed: 0)
        let model = CNN(generator: &generator)
        #expect(parameterShapes(model) == [
            "conv1.weight [8, 1, 5, 5]", "conv1.bias [8]", "conv2.weight [16, 8, 5, 5]", "conv2.bias [16]",
            "fc.weight [10, 256]", "fc.bias [10]",
        ])
        #expect(model.parameterCount == 5_994)
        #expect(model(Tensor.zeros([3, 1, 28, 28])).shape == [3, 10])
        let summary = model.summary(inputShape: [1, 1, 28, 28])
        #expect(summary.contains("Conv2d (1 -> 8, 5x5)"))
        #expect(summary.contains("[1, 8, 12, 12]"))   // after the first pool
        #expect(summary.contains("[1, 256]"))         // flattened
        #expect(summary.contains("Total params: 5,994"))
    }

    @Test("cnn-bn: PyTorch's state dict keys, 5,994 + 48 parameters and 50 buffer elements; cnn's layers otherwise")
    func cnnBatchNorm() {
        var generator = RandomGenerator(seed: 0)
        let model = CNN(batchNorm: true, generator: &generator)
        let bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
        #expect(model.stateDict().map(\.name) == ["conv1.weight", "conv1.bias"] + bn.map { "bn1." + $0 }
            + ["conv2.weight", "conv2.bias"] + bn.map { "bn2." + $0 } + ["fc.weight", "fc.bias"])
        #expect(parameterShapes(model) == [
            "conv1.weight [8, 1, 5, 5]", "conv1.bias [8]", "bn1.weight [8]", "bn1.bias [8]",
            "conv2.weight [16, 8, 5, 5]", "conv2.bias [16]", "bn2.weight [16]", "bn2.bias [16]",
            "fc.weight [10, 256]", "fc.bias [10]",
        ])
        #expect(model.parameterCount == 6_042)
        #expect(model.namedBuffers().reduce(0) { $0 + $1.tensor.count } == 50)
        #expect(model(randomTensor([4, 1, 28, 28], low: 0, high: 1, seed: 1)).shape == [4, 10])
        // BatchNorm draws nothing: the other layers start as cnn's.
        var plainGenerator = RandomGenerator(seed: 0)
        let plain = CNN(generator: &plainGenerator)
        #expect(model.conv1.weight.scalars == plain.conv1.weight.scalars)
        #expect(model.fc.weight.scalars == plain.fc.weight.scalars)
        #expect(plain.bn1 == nil && plain.stateDict().count == 6)
    }

    @Test("cnn-bn in eval mode uses the running statistics: a sample's output is the same alone or in a batch")
    func cnnBatchNormEvalMode() throws {
        var generator = RandomGenerator(seed: 2)
        let model = CNN(batchNorm: true, generator: &generator)
        let batch = randomTensor([4, 1, 28, 28], low: 0, high: 1, seed: 3)
        let first = Tensor(shape: [1, 1, 28, 28], values: Array(batch.scalars[0..<784]))
        // Training mode: batch statistics, so the row depends on its batch; one update of the running stats.
        let trainingRow = withNoGrad { Array(model(batch).scalars[0..<10]) }
        let trainingAlone = withNoGrad { model(first).scalars }
        #expect(trainingRow != trainingAlone)
        let bn1 = try #require(model.bn1)
        #expect(bn1.numBatchesTracked?.scalars == [2])
        let runningMean = try #require(bn1.runningMean).scalars
        #expect(runningMean.contains { $0 != 0 })

        model.eval()
        let row = withNoGrad { Array(model(batch).scalars[0..<10]) }
        let alone = withNoGrad { model(first).scalars }
        expectClose(alone, row, absolute: 1e-6, relative: 1e-5)
        #expect(bn1.numBatchesTracked?.scalars == [2])   // eval updates nothing
        #expect(bn1.runningMean?.scalars == runningMean)
        #expect(row != trainingRow)
    }

    @Test("mlp --dropout 0: no Dropout layer, the old keys, count and arithmetic bit for bit")
    func mlpWithoutDropout() {
        var generator = RandomGenerator(seed: 4)
        let model = Sequential.mlp(hidden: 32, generator: &generator)
        var oldGenerator = RandomGenerator(seed: 4)
        let old = Sequential(Flatten(), Linear(784, 32, generator: &oldGenerator), ReLU(), Linear(32, 10, generator: &oldGenerator))
        #expect(model.stateDict().map(\.name) == ["1.weight", "1.bias", "3.weight", "3.bias"])
        #expect(parameterShapes(model) == parameterShapes(old))
        #expect(model.parameterCount == 784 * 32 + 32 + 32 * 10 + 10)
        #expect(!model.layers.contains { $0 is Dropout })
        #expect(zip(model.parameters(), old.parameters()).allSatisfy { $0.scalars == $1.scalars })
        let x = randomTensor([3, 1, 28, 28], low: 0, high: 1, seed: 5)
        #expect(model(x).scalars == old(x).scalars)
    }

    @Test("mlp --dropout 0.5: Dropout after the hidden ReLU, masking in training and the identity in eval")
    func mlpWithDropout() throws {
        var generator = RandomGenerator(seed: 4)
        let model = Sequential.mlp(hidden: 32, dropout: 0.5, generator: &generator)
        #expect(model.stateDict().map(\.name) == ["1.weight", "1.bias", "4.weight", "4.bias"])
        #expect(model.parameterCount == 784 * 32 + 32 + 32 * 10 + 10)
        let dropout = try #require(model.layers[3] as? Dropout)
        #expect(dropout.p == 0.5 && model.layers[2] is ReLU && model.layers[4] is Linear)
        var plainGenerator = RandomGenerator(seed: 4)
        let plain = Sequential.mlp(hidden: 32, generator: &plainGenerator)
        #expect(zip(model.parameters(), plain.parameters()).allSatisfy { $0.scalars == $1.scalars })

        let x = randomTensor([6, 1, 28, 28], low: 0, high: 1, seed: 6)
        let hiddenPart = Sequential(Array(model.layers[0...3]))
        let hidden = withNoGrad { Sequential(Array(model.layers[0...2]))(x).scalars }
        let context = ForwardContext(seed: 7, epoch: 0, sampleIndices: Array(0..<6))
        let dropped = withNoGrad { context.run { hiddenPart(x).scalars } }
        #expect(zip(dropped, hidden).allSatisfy { $0 == 0 || $0 == $1 * 2 })
        #expect(zip(dropped, hidden).contains { $0 == 0 && $1 > 0 })   // some active units dropped
        let training = withNoGrad { context.run { model(x).scalars } }
        #expect(training != plain(x).scalars)

        model.eval()
        #expect(!dropout.isTraining)
        #expect(withNoGrad { context.run { model(x).scalars } } == plain(x).scalars)
    }

    @Test("lenet: the CIFAR-10 tutorial's names and 62,006 parameters; 1x28x28 input works too")
    func lenet() {
        var generator = RandomGenerator(seed: 0)
        let model = LeNet(generator: &generator)
        #expect(parameterShapes(model) == [
            "conv1.weight [6, 3, 5, 5]", "conv1.bias [6]", "conv2.weight [16, 6, 5, 5]", "conv2.bias [16]",
            "fc1.weight [120, 400]", "fc1.bias [120]", "fc2.weight [84, 120]", "fc2.bias [84]",
            "fc3.weight [10, 84]", "fc3.bias [10]",
        ])
        #expect(model.parameterCount == 62_006)
        #expect(model(Tensor.zeros([2, 3, 32, 32])).shape == [2, 10])
        let small = LeNet(inputShape: [1, 28, 28], generator: &generator)
        #expect(small.fc1.inFeatures == 256)
        #expect(small(Tensor.zeros([2, 1, 28, 28])).shape == [2, 10])
    }

    @Test("autoencoder: encoder.0 and decoder.0, output [batch, 784] in (0, 1)")
    func autoencoder() {
        var generator = RandomGenerator(seed: 0)
        let model = AutoEncoder(latent: 64, generator: &generator)
        #expect(parameterShapes(model) == [
            "encoder.0.weight [64, 784]", "encoder.0.bias [64]", "decoder.0.weight [784, 64]", "decoder.0.bias [784]",
        ])
        #expect(model.parameterCount == 101_200)
        let y = model(randomTensor([2, 1, 28, 28], low: 0, high: 1, seed: 1))
        #expect(y.shape == [2, 784])
        #expect(y.scalars.allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test("tied-autoencoder: the encoder weight is listed once, beside two biases")
    func tiedAutoencoderParameters() throws {
        var generator = RandomGenerator(seed: 0)
        let model = TiedAutoEncoder(latent: 32, generator: &generator)
        #expect(parameterShapes(model) == ["encoder.weight [32, 784]", "encoder.bias [32]", "decoder.bias [784]"])
        #expect(model.parameterCount == 784 * 32 + 32 + 784)
        #expect(model.decoder.tied === model.encoder)
        let state = model.stateDict()
        #expect(state.map(\.name) == ["encoder.weight", "encoder.bias", "decoder.bias"])
        let parameters = ParameterSet(model)
        #expect(parameters.count == 784 * 32 + 32 + 784)
        // Loading a state dict writes the one weight both halves use.
        var dict: [String: Tensor] = [:]
        for (name, tensor) in state { dict[name] = Tensor.full(tensor.shape, 0.25) }
        try model.loadStateDict(dict)
        #expect(model.encoder.weight.scalars.allSatisfy { $0 == 0.25 })
        #expect(model.decoder.tied.weight.scalars.allSatisfy { $0 == 0.25 })
    }

    @Test("tied-autoencoder: the weight's gradient is the sum of the encoder's and the decoder's")
    func tiedAutoencoderGradient() throws {
        var generator = RandomGenerator(seed: 3)
        let model = TiedAutoEncoder(inputFeatures: 12, latent: 5, generator: &generator)
        let x = randomTensor([4, 1, 3, 4], low: 0, high: 1, seed: 4)
        binaryCrossEntropy(predicted: model(x), expected: x.reshaped([4, 12])).backward()
        let tied = try #require(model.encoder.weight.grad).scalars

        // The same computation untied: the decoder gets its own copy of W^T.
        let w1 = model.encoder.weight.copy(), b1 = model.encoder.bias!.copy()
        let w2 = model.encoder.weight.copy(), b2 = model.decoder.bias.copy()
        for t in [w1, b1, w2, b2] { t.requiresGrad = true }
        let flat = x.reshaped([4, 12])
        let code = Tensor.linear(flat, weight: w1, bias: b1).relu()
        let output = (Tensor.matmul(code, w2) + b2).sigmoid()
        binaryCrossEntropy(predicted: output, expected: flat).backward()
        let encoderPart = try #require(w1.grad).scalars, decoderPart = try #require(w2.grad).scalars
        #expect(decoderPart.contains { $0 != 0 } && encoderPart.contains { $0 != 0 })
        expectClose(tied, zip(encoderPart, decoderPart).map { $0 + $1 }, absolute: 1e-6, relative: 1e-5)
        expectClose(try #require(model.decoder.bias.grad).scalars, try #require(b2.grad).scalars)
    }

    @Test("deep-autoencoder 784-500-100-30 and its mirror: names and 892,014 parameters")
    func deepAutoencoder() {
        var generator = RandomGenerator(seed: 0)
        let model = DeepAutoEncoder(layers: [500, 100, 30], generator: &generator)
        #expect(parameterShapes(model) == [
            "encoder.0.weight [500, 784]", "encoder.0.bias [500]", "encoder.2.weight [100, 500]", "encoder.2.bias [100]",
            "encoder.4.weight [30, 100]", "encoder.4.bias [30]",
            "decoder.0.weight [100, 30]", "decoder.0.bias [100]", "decoder.2.weight [500, 100]", "decoder.2.bias [500]",
            "decoder.4.weight [784, 500]", "decoder.4.bias [784]",
        ])
        #expect(model.parameterCount == 892_014)
        // The code layer is linear (it can be negative); the output is a probability.
        let x = randomTensor([8, 1, 28, 28], low: 0, high: 1, seed: 5)
        let code = model.encoder(x.flattened())
        #expect(code.shape == [8, 30])
        #expect(code.scalars.contains { $0 < 0 })
        let y = model(x)
        #expect(y.shape == [8, 784])
        #expect(y.scalars.allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test("highway layer: y = H(x) T(x) + x (1 - T(x)), gate bias starting at -2")
    func highwayLayer() {
        var generator = RandomGenerator(seed: 6)
        let layer = HighwayLayer(6, generator: &generator)
        #expect(parameterShapes(layer) == ["transform.weight [6, 6]", "transform.bias [6]", "gate.weight [6, 6]", "gate.bias [6]"])
        #expect(layer.gate.bias!.scalars == [Float](repeating: -2, count: 6))
        let x = randomTensor([3, 6], seed: 7)
        let h = Tensor.linear(x, weight: layer.transform.weight, bias: layer.transform.bias).relu().scalars
        let t = Tensor.linear(x, weight: layer.gate.weight, bias: layer.gate.bias).sigmoid().scalars
        let expected = (0..<18).map { h[$0] * t[$0] + x.scalars[$0] * (1 - t[$0]) }
        expectClose(layer(x).scalars, expected, absolute: 1e-6, relative: 1e-5)
        // A fresh layer mostly carries its input: T is about sigmoid(-2) = 0.12.
        #expect(t.reduce(0, +) / 18 < 0.3)
    }

    @Test("highway layer gradients match finite differences")
    func highwayGradients() {
        var generator = RandomGenerator(seed: 8)
        let layer = HighwayLayer(4, gateBias: -1, generator: &generator)
        let x = randomTensor([3, 4], seed: 9)
        x.requiresGrad = true
        let y = layer(x)
        let upstream = randomTensor(y.shape, seed: 10)
        y.backward(gradient: upstream)
        let analytic = x.grad!.scalars
        func loss() -> Double {
            withNoGrad { zip(layer(x).scalars, upstream.scalars).reduce(0) { $0 + Double($1.0 * $1.1) } }
        }
        for i in 0..<x.count {
            let v = x.data[i]
            x.data[i] = v + 1e-2
            let up = loss()
            x.data[i] = v - 1e-2
            let down = loss()
            x.data[i] = v
            let numeric = (up - down) / 2e-2
            #expect(abs(Double(analytic[i]) - numeric) <= 5e-3 * (1 + abs(numeric)), "element \(i)")
        }
    }

    @Test("highway classifier: input, layers.<i>.transform/gate, output")
    func highwayClassifier() {
        var generator = RandomGenerator(seed: 0)
        let model = HighwayClassifier(width: 128, depth: 3, generator: &generator)
        let names = model.namedParameters().map(\.name)
        #expect(names.first == "input.weight")
        #expect(names.contains("layers.2.gate.bias"))
        #expect(names.last == "output.bias")
        // 784*128+128 + 3 * 2 * (128*128+128) + 128*10+10
        #expect(model.parameterCount == 200_842)
        #expect(model(Tensor.zeros([2, 1, 28, 28])).shape == [2, 10])
    }

    @Test("highway auto-encoder: a bottleneck between two highway stacks")
    func highwayAutoencoder() {
        var generator = RandomGenerator(seed: 0)
        let model = HighwayAutoEncoder(width: 32, depth: 2, latent: 16, generator: &generator)
        let names = model.namedParameters().map(\.name)
        #expect(names.contains("encoder.0.weight"))
        #expect(names.contains("encoder.3.transform.weight"))   // the second highway layer
        #expect(names.contains("encoder.4.weight"))             // Linear(32, 16)
        #expect(names.contains("decoder.4.bias"))               // Linear(32, 784)
        #expect(model.encoder.layers[4] is Linear && (model.encoder.layers[4] as! Linear).outFeatures == 16)
        // 784*32+32 + 2*2112 + 32*16+16  +  16*32+32 + 2*2112 + 32*784+784
        #expect(model.parameterCount == 60_512)
        let y = model(randomTensor([2, 1, 28, 28], low: 0, high: 1, seed: 11))
        #expect(y.shape == [2, 784])
        #expect(y.scalars.allSatisfy { $0 > 0 && $0 < 1 })
    }
}
