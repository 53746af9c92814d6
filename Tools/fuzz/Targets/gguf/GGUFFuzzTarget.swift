// libFuzzer entry point for the GGUF reader. Built by run-fuzzers.sh (Tools/fuzz/Package.swift)
// or alone by run-gguf-fuzzer.sh; any crash, hang or sanitizer report is a reader bug, while a
// thrown GGUFError is the expected outcome for most inputs.
import GGUF

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: size > 0 ? data : nil, count: size)
    if let file = try? GGUFFile(bytes: bytes) {
        // Touch everything the reader exposes, as a loader would.
        for tensor in file.tensors { _ = file.bytes(of: tensor).last }
        for (key, value) in file.metadata.entries { _ = (key.utf8.count, value.type) }
    }
    return 0
}
