// The GGUF fuzzer's entry point when built as a SwiftPM executable (Tools/fuzz/Package.swift);
// run-gguf-fuzzer.sh compiles GGUFFuzzTarget.swift alone and uses libFuzzer's own main.
// Written for this project.
import FuzzSupport

@main
enum Entry {
    static func main() { runLibFuzzer(fuzzGGUF) }
}
