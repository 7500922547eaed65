import Testing

@Test func placeholderOptim() {}
