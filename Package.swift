// swift-tools-version: 6.1
import PackageDescription

// Kernels are compiled for the building machine's CPU (as llama.cpp's GGML_NATIVE=ON does):
// on this project's Zen 5 that lets the SIMD16<Float> paths become AVX-512.
// Set RMAS_TARGET_CPU (e.g. "x86-64-v3") to build a binary for other machines.
let targetCPU = Context.environment["RMAS_TARGET_CPU"] ?? "native"

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .unsafeFlags(["-target-cpu", targetCPU]),
]

let package = Package(
    name: "RecursiveMAS",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rmas", targets: ["rmas"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Fuzzable", targets: ["GGUF", "Tokenization", "RoleData", "Sandbox", "Agents"]),  // Tools/fuzz links these
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // MARK: - Library targets (dependency arrows point toward numerics)
        // Hand-vectorised integer dot products (llama.cpp-style 8-bit activations); see Sources/CKernels.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Kernels", dependencies: ["CKernels"], swiftSettings: swiftSettings),
        .target(name: "GGUF", dependencies: ["Kernels"], swiftSettings: swiftSettings),
        .target(name: "Tokenization", swiftSettings: swiftSettings),
        .target(
            name: "Models", dependencies: ["Kernels", "GGUF", "Tokenization"],
            swiftSettings: swiftSettings),
        .target(name: "ModelFetch", swiftSettings: swiftSettings),
        // Trainable parameters, optimizer, schedules and loss heads (weights of the LLMs stay frozen).
        .target(name: "Training", dependencies: ["Kernels", "Models"], swiftSettings: swiftSettings),
        // RecursiveLink networks (inner and outer links): the small trainable maps between agents.
        .target(name: "Links", dependencies: ["Kernels", "Training"], swiftSettings: swiftSettings),
        // Role-specific training data: JSONL rows, sequential prompts, answer grading, synthetic problems.
        .target(name: "RoleData", dependencies: ["Kernels"], swiftSettings: swiftSettings),
        // Untrusted-code execution (HumanEval harness, the agent's Python tool) and the offline BM25 search tool.
        // CSandbox: fork/exec with rlimits, namespaces, uid drop and a seccomp socket filter (Foundation's Process cannot).
        .target(name: "CSandbox"),
        .target(name: "Sandbox", dependencies: ["CSandbox"], swiftSettings: swiftSettings),
        // Agents over frozen models: inner-link training, latent rollouts, the recursive system.
        .target(
            name: "Agents", dependencies: ["Kernels", "Models", "Tokenization", "Training", "Links", "RoleData", "ModelFetch", "Sandbox"],
            swiftSettings: swiftSettings),
        // `rmas serve`: the OpenAI-compatible HTTP server over loaded systems and base models.
        .target(
            name: "Server",
            dependencies: ["Agents", "Models", "Tokenization", "Kernels", "RoleData", .product(name: "Hummingbird", package: "hummingbird")],
            resources: [.copy("Resources/index.html")],
            swiftSettings: swiftSettings),
        .target(
            name: "TestSupport", dependencies: ["Kernels", "GGUF", "Models", "ModelFetch", "Training"],
            swiftSettings: swiftSettings),

        // MARK: - Executable
        .executableTarget(
            name: "rmas",
            dependencies: [
                "Kernels", "GGUF", "Tokenization", "Models", "ModelFetch", "Training", "Links", "RoleData", "Agents", "Server",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/CLI",
            resources: [.copy("Resources/DefaultSystem"), .copy("Resources/Presets")],
            swiftSettings: swiftSettings),

        // MARK: - Tests
        .testTarget(
            name: "KernelsTests", dependencies: ["Kernels", "GGUF", "TestSupport"],
            exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "GGUFTests", dependencies: ["GGUF", "Kernels", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TokenizationTests",
            dependencies: ["Tokenization", "Models", "GGUF", "TestSupport"],
            exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ModelsTests", dependencies: ["Models", "GGUF", "ModelFetch", "TestSupport"],
            exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TrainingTests", dependencies: ["Training", "Models", "Kernels", "GGUF", "TestSupport"],
            exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "LinksTests", dependencies: ["Links", "Training", "Kernels"],
            exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RoleDataTests", dependencies: ["RoleData", "Kernels"],
            exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ServerTests", dependencies: ["Server", "Agents", "Models", "Links", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AgentsTests", dependencies: ["Agents", "Links", "RoleData", "Training", "Models", "ModelFetch", "Kernels", "TestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings),
    ]
)
