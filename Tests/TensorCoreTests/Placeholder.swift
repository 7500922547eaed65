import Testing

@Test func placeholderTensorCore() {}
