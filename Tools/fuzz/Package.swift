// swift-tools-version: 6.1
// libFuzzer targets for the project's parsers of untrusted files. A separate package (not part of
// the root package's targets) that depends on the root by path; run-fuzzers.sh builds it with
// -sanitize=fuzzer,address passed to every Swift module, so the parsers are coverage-instrumented
// too. Each executable's @main hands its LLVMFuzzerTestOneInput to libFuzzer's driver
// (CFuzzDriver): SwiftPM aliases an executable's `main` to the module's entry symbol, which rules
// out the `main` that libFuzzer itself provides.
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name (the clone's name, e.g. "main").
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent()
let rootPackage = root.lastPathComponent.lowercased()

let settings: [SwiftSetting] = [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]

func fuzzer(_ name: String, products: [String]) -> Target {
    .executableTarget(
        name: "fuzz-\(name)",
        dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: rootPackage) },
        path: "Targets/\(name)", swiftSettings: settings)
}

let package = Package(
    name: "RecursiveMASFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "../..")],
    targets: [
        .target(name: "CFuzzDriver", path: "Targets/CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"], path: "Targets/FuzzSupport", swiftSettings: [.swiftLanguageMode(.v6)]),
        fuzzer("gguf", products: ["Fuzzable"]),
        fuzzer("tokenizer", products: ["Fuzzable"]),
        fuzzer("checkpoint", products: ["Training"]),
        fuzzer("system", products: ["Fuzzable"]),
        fuzzer("data", products: ["Fuzzable", "Training"]),
    ]
)
