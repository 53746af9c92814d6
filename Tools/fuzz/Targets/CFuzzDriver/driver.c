// Forwards to libFuzzer's LLVMFuzzerRunDriver (linked by -sanitize=fuzzer); see CFuzzDriver.h.
// Written for this project.
#include "CFuzzDriver.h"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*user_callback)(const uint8_t *data, size_t size));

int rmas_run_libfuzzer(int *argc, char ***argv, int (*test_one_input)(const uint8_t *data, size_t size)) {
    return LLVMFuzzerRunDriver(argc, argv, test_one_input);
}
