// libFuzzer's entry point for programs that keep their own main, as
// `fuzz-readers` does (Swift's @main wins over libFuzzer's main when both
// are linked). Only referenced when built with -DFUZZING -sanitize=fuzzer,
// which links libFuzzer; a normal build never calls it.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
