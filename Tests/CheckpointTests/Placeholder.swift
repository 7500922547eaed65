import Testing

@Test func placeholderCheckpoint() {}
