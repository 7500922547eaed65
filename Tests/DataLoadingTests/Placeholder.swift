import Testing

@Test func placeholderDataLoading() {}
