// libFuzzer's driver, called from each fuzz target's Swift entry point. SwiftPM links an
// executable target with `main` aliased to the module's own entry symbol, so libFuzzer's `main`
// cannot be used; LLVMFuzzerRunDriver (libFuzzer's documented entry for programs with their own
// main) runs the same driver. Written for this project.
#ifndef RMAS_CFUZZDRIVER_H
#define RMAS_CFUZZDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer with the program's arguments on `test_one_input`; returns its exit status.
int rmas_run_libfuzzer(int *argc, char ***argv, int (*test_one_input)(const uint8_t *data, size_t size));

#endif
