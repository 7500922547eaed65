import Testing

@Test func placeholderCollective() {}
