import ArgumentParser
import Foundation
import Kernels
import Models

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prefill and decode speed the way llama-bench does (pp N, tg N, random tokens).")

    @OptionGroup var modelArguments: ModelArguments
    @Option(help: "Prompt tokens processed in one forward call (llama-bench -p).", in: 1...1_048_576)
    var promptTokens = 256
    @Option(help: "Tokens decoded one at a time from an empty cache (llama-bench -n).", in: OptionRange.tokens)
    var genTokens = 128
    @Option(help: "Worker threads.", in: OptionRange.threads)
    var threads = 2
    @Option(help: "Inference precision: int8 (as llama.cpp: 8-bit decode activations; prefill per --prefill, default auto), int8-tiled (the same activations on 16-row int8 weight tiles: faster batched decode), float32 (exact: fp32 decode and prefill) or bfloat16 (fp32 decode, bf16 prefill; AVX512-BF16). With --train: bfloat16 runs the step's products in bf16 (as `train outer --matmul bfloat16`), anything else in fp32.")
    var precision: BenchPrecision = .int8
    @Option(help: "Prefill products, overriding --precision's: auto (bf16 on AMD CPUs with AVX512-BF16), float32 or bfloat16.")
    var prefill: PrefillFormat?
    @Option(help: "Repetitions; the median is reported.", in: 1...10_000)
    var repetitions = 5
    @Flag(help: "Print one JSON object instead of text.")
    var json = false
    @Option(help: "Path to llama.cpp's llama-bench: run it on the same model and settings right after, and print the ratios.")
    var llamaBench: String?
    @Flag(help: "Measure a training step instead: forward + backward to the input embeddings over --prompt-tokens positions (CE on every position).")
    var train = false
    @Option(help: "With --train: path to shared/anchors/torch_anchor.py, run right after on the same model for the ratio.")
    var torchAnchor: String?
    @Flag(help: "With --train: recompute each layer in the backward (checkpointing) instead of keeping activations.")
    var recompute = false
    @Option(help: "With --train: sequences whose graphs are alive at once (e.g. 9 = 3 agents × 3 rounds); all forwards, then all backwards.", in: 1...1024)
    var sequences = 1
    @Option(help: "With --torch-anchor: measure ours and torch alternately this many times and report every pair's ratio and their median (a shared VM's speed drifts by ±20% within minutes, so one pair can mislead).", in: 1...1000)
    var pairs = 1
    @Option(help: "Python interpreter for --torch-anchor (needs torch, transformers, gguf, and accelerate for transformers ≥ 5 to read a GGUF).")
    var python = "python3"
    @Option(help: "Measure batched decoding instead (as llama-batched-bench): for each B, B sequences decode --gen-tokens steps together after a --prompt-tokens prefill each; prints aggregate tok/s and the ratio to B = 1.", in: 1...256)
    var batch = CommaSeparated<Int>([])
    @Flag(help: "Measure the prefill matrix products instead: the model's layer shapes at M = --prompt-tokens through the system BLAS and our packed GEMM (fp32, bf16), alternating.")
    var gemm = false

    enum BenchPrecision: String, CaseIterable, ExpressibleByArgument {
        case int8, int8Tiled = "int8-tiled", float32, bfloat16
    }

    /// The inference precision measured: `--precision`'s decode, and `--prefill` or its default prefill.
    func inference() throws -> ActivationPrecision {
        switch precision {
        case .int8: return .int8.prefilling(try (prefill ?? .auto).resolved())
        case .int8Tiled: return ActivationPrecision(vectors: .int8Tiled, matrices: try (prefill ?? .auto).resolved())
        case .float32: return .float32.prefilling(try (prefill ?? .float32).resolved())
        case .bfloat16:
            return .float32.prefilling(try prefill?.resolved() ?? GEMMFormat.bfloat16(askedBy: "--precision bfloat16", else: "int8 or float32"))
        }
    }

    func run() throws {
        let precision = try inference()
        let model = try LanguageModel.load(path: try modelArguments.resolvedPath())
        let c = model.configuration
        BLAS.setThreadCount(threads)
        if train { return try runTraining(model) }
        if !batch.values.isEmpty { return try runBatched(model) }
        if gemm { return try runGEMM(model) }
        var rng = SplitMix64(seed: 42)
        let prompt = (0..<promptTokens).map { _ in Int32(rng.next() % UInt64(c.vocabularySize)) }
        let clock = ContinuousClock()

        // Warm-up: maps pages and builds the dense prefill weights and the decode steps' repacked
        // weights (int8-tiled) once, as llama-bench warms up.
        let warm = KVCache(configuration: c, capacity: 9)
        _ = model.transformer.forward(tokens: Array(prompt.prefix(8)), cache: warm, threads: threads)
        _ = model.transformer.forward(tokens: [prompt.first ?? 1], cache: warm, outputs: .last, precision: precision, threads: threads)

        var prefill: [Double] = [], decode: [Double] = []
        for _ in 0..<repetitions {
            if promptTokens > 0 {
                let cache = KVCache(configuration: c, capacity: promptTokens)
                let start = clock.now
                _ = model.transformer.forward(tokens: prompt, cache: cache, outputs: .last, precision: precision, threads: threads)
                prefill.append(Double(promptTokens) / (clock.now - start).seconds)
            }
            if genTokens > 0 {
                let cache = KVCache(configuration: c, capacity: genTokens)
                var token = prompt.first ?? 1
                let start = clock.now
                for _ in 0..<genTokens {
                    let logits = model.transformer.forward(tokens: [token], cache: cache, outputs: .last,
                                                           precision: precision, threads: threads).logits
                    token = Int32(logits.indices.max { logits[$0] < logits[$1] } ?? 0)
                }
                decode.append(Double(genTokens) / (clock.now - start).seconds)
            }
        }
        let rss = Self.peakRSSBytes()
        let reference = try llamaBench.map { try LlamaBenchRun(executable: $0, model: model.path, promptTokens: promptTokens,
                                                                 genTokens: genTokens, threads: threads, repetitions: repetitions) }
        let name = URL(fileURLWithPath: model.path).lastPathComponent
        if json {
            let object: [String: Any] = [
                "model": name, "threads": threads, "precision": precision.name, "prompt_tokens": promptTokens, "gen_tokens": genTokens,
                "prefill_tok_s": Self.median(prefill), "decode_tok_s": Self.median(decode),
                "peak_rss_bytes": rss, "blas": "\(BLAS.backend)", "kernels": QuantizedMatrix.quantizedActivationKernelName,
                "prefill_gemm": "\(precision.gemmFormat)",
                "llama_bench_prefill_tok_s": reference?.prefill ?? 0, "llama_bench_decode_tok_s": reference?.decode ?? 0,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("model \(name), \(threads) threads, BLAS \(BLAS.backend), precision \(precision.name) "
                  + "(decode \(QuantizedMatrix.quantizedActivationKernelName); prefill GEMM \(precision.gemmFormat))")
            if !prefill.isEmpty { print(String(format: "pp%d  %8.1f tok/s (median of %d)", promptTokens, Self.median(prefill), prefill.count)) }
            if !decode.isEmpty { print(String(format: "tg%d  %8.1f tok/s (median of %d)", genTokens, Self.median(decode), decode.count)) }
            print(String(format: "peak RSS %.1f MB", Double(rss) / 1e6))
            if let reference {
                if let pp = reference.prefill, !prefill.isEmpty {
                    print(String(format: "llama-bench pp%d %8.1f tok/s → ratio %.2f×", promptTokens, pp, Self.median(prefill) / pp))
                }
                if let tg = reference.decode, !decode.isEmpty {
                    print(String(format: "llama-bench tg%d %8.1f tok/s → ratio %.2f×", genTokens, tg, Self.median(decode) / tg))
                }
            }
        }
    }

    func runTraining(_ model: LanguageModel) throws {
        let name = URL(fileURLWithPath: model.path).lastPathComponent
        var benchmark = TrainingBenchmark(model: model, positions: promptTokens, threads: threads, memory: recompute ? .recompute : .keep)
        benchmark.sequences = sequences
        // Training products: bfloat16 when asked for (`--precision bfloat16`), else exact fp32.
        benchmark.precision = precision == .bfloat16 ? .bfloat16 : .float32
        if precision == .bfloat16 { _ = try GEMMFormat.bfloat16(askedBy: "--precision bfloat16", else: "int8 or float32") }
        var runs: [(ours: (seconds: [Double], gradientNorm: Double, loss: Double), anchor: TorchAnchorRun?)] = []
        for _ in 0..<(torchAnchor == nil ? 1 : max(1, pairs)) {
            let ours = benchmark.run(repetitions: repetitions)
            let anchor = try torchAnchor.map {
                try TorchAnchorRun(python: python, script: $0, model: model.path, threads: threads, repetitions: repetitions)
            }
            if let anchor, anchor.forwardBackwardSeconds == nil {
                throw ValidationError("could not read the anchor's (b) line; its output was:\n\(anchor.output)"
                                      + (anchor.errors.isEmpty ? "" : "\nthe end of its stderr:\n\(anchor.errors)"))
            }
            runs.append((ours, anchor))
        }
        let rss = Self.peakRSSBytes()
        let ours = runs[0].ours
        let medians = runs.map { Self.median($0.ours.seconds) }
        let torch = runs.compactMap { $0.anchor?.forwardBackwardSeconds }
        let ratios = zip(torch, medians).map { $0 / $1 }
        let seconds = Self.median(medians)
        if json {
            let object: [String: Any] = [
                "model": name, "threads": threads, "positions": promptTokens, "sequences": sequences, "forward_backward_s": seconds,
                "matmul": "\(benchmark.precision.gemmFormat)",
                "gradient_norm": ours.gradientNorm, "loss": ours.loss, "peak_rss_bytes": rss,
                "torch_forward_backward_s": torch.isEmpty ? 0 : Self.median(torch),
                "torch_gradient_norm": runs[0].anchor?.gradientNorm ?? 0,
                "pairs": zip(medians, torch).map { ["ours_s": $0, "torch_s": $1] }, "median_ratio": Self.median(ratios),
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print("model \(name), \(threads) threads, BLAS \(BLAS.backend), activations \(recompute ? "recomputed" : "kept"), "
              + "products \(benchmark.precision.gemmFormat)")
        for (i, run) in runs.enumerated() {
            print(String(format: "forward+backward %d×%d  %8.1f ms (median of %d) = %.1f tok/s; loss %.4f, |dL/dX| %.4g",
                         sequences, promptTokens, medians[i] * 1000, run.ours.seconds.count,
                         Double(sequences * promptTokens) / medians[i], run.ours.loss, run.ours.gradientNorm))
            if let anchor = run.anchor, let torch = anchor.forwardBackwardSeconds {
                print(String(format: "torch forward+backward %8.1f ms (|dL/dX| %.4g) → ratio %.2f×", torch * 1000,
                             anchor.gradientNorm ?? 0, torch / medians[i]))
            }
        }
        if ratios.count > 1 {
            print(String(format: "median ratio over %d pairs: %.2f× (range %.2f–%.2f×)", ratios.count, Self.median(ratios),
                         ratios.min()!, ratios.max()!))
        }
        print(String(format: "peak RSS %.1f MB", Double(rss) / 1e6))
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Peak resident set size of this process (ru_maxrss is in KiB on Linux).
    static func peakRSSBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        #if os(Linux)
        return usage.ru_maxrss * 1024
        #else
        return usage.ru_maxrss
        #endif
    }
}

/// One llama-bench run (`-o json`) on the same model and settings, for side-by-side ratios.
struct LlamaBenchRun {
    var prefill: Double?
    var decode: Double?

    init(executable: String, model: String, promptTokens: Int, genTokens: Int, threads: Int, repetitions: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-m", model, "-p", "\(promptTokens)", "-n", "\(genTokens)", "-t", "\(threads)",
                             "-r", "\(repetitions)", "-o", "json",
                             // llama.cpp's AMX weight repacking segfaults on this project's VMs (exit 11).
                             "--repack", "0"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let rows = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw ValidationError("llama-bench failed (exit \(process.terminationStatus))")
        }
        for row in rows {
            let speed = row["avg_ts"] as? Double
            if (row["n_prompt"] as? Int ?? 0) > 0 { prefill = speed } else if (row["n_gen"] as? Int ?? 0) > 0 { decode = speed }
        }
    }
}
