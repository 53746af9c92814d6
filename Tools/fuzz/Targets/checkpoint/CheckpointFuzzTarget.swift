// libFuzzer entry point for checkpoint reading (Sources/Training/Checkpoint): arbitrary bytes as
// a .safetensors file, as manifest.json, and as a whole checkpoint directory (manifest, weights
// and optimizer files) loaded and restored into parameters and an AdamW state, as a resumed run
// does. A crash or sanitizer report is a finding; so is a file that parses but does not survive
// writing and re-reading (fuzzCheck). Written for this project.
import Foundation
import FuzzSupport
import Training

@main
enum Entry {
    static func main() { runLibFuzzer(fuzzCheckpoint) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzEntry(data, size) { bytes in
        var input = FuzzInput(bytes)
        switch input.byte() % 3 {
        case 0: safeTensors(input.rest())
        case 1: manifest(input.rest())
        default: directory(&input)
        }
    }
}

/// Bit-exact tensor comparison (NaN payloads included).
private func sameTensors(_ a: SafeTensors, _ b: SafeTensors) -> Bool {
    a.tensors.count == b.tensors.count
        && a.tensors.allSatisfy { name, tensor in
            guard let other = b.tensors[name] else { return false }
            return other.shape == tensor.shape && other.values.map(\.bitPattern) == tensor.values.map(\.bitPattern)
        }
}

private func safeTensors(_ bytes: [UInt8]) {
    guard let file = try? SafeTensors(data: Data(bytes)) else { return }
    for (name, tensor) in file.tensors {
        fuzzCheck((try? file.tensor(name, shape: tensor.shape)) != nil, "tensor '\(name)' is listed but cannot be read")
    }
    // What was read must survive being written and read again.
    let copy: SafeTensors
    do { copy = try SafeTensors(data: file.serialized(as: .f32)) } catch {
        fuzzCheck(false, "a re-serialized file does not parse: \(error)")
        return
    }
    fuzzCheck(sameTensors(file, copy) && copy.metadata == file.metadata, "F32 re-serialization changed the file")
    for dtype in [SafeTensors.DType.f16, .bf16] {
        let narrow = try? SafeTensors(data: file.serialized(as: dtype))
        fuzzCheck(narrow.map { $0.tensors.mapValues(\.shape) == file.tensors.mapValues(\.shape) } == true,
                  "\(dtype) re-serialization lost tensors")
    }
}

private func manifest(_ bytes: [UInt8]) {
    let scratch = ScratchDirectory.shared
    _ = scratch.write(bytes, to: "manifest.json")
    guard let manifest = try? CheckpointStore(directory: scratch.url).manifest() else { return }
    // The manifest as this project writes it must read back equal.
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    guard let encoded = try? encoder.encode(manifest) else { return }  // e.g. a non-finite metric
    let decoded = try? JSONDecoder().decode(CheckpointManifest.self, from: encoded)
    fuzzCheck(decoded == manifest, "a manifest does not survive writing and reading")
}

/// Input: manifest bytes, NUL, 2-byte little-endian weights length, weights, optimizer bytes
/// (files weights.safetensors and optimizer.safetensors; the seeds' manifests name them).
private func directory(_ input: inout FuzzInput) {
    let scratch = ScratchDirectory.shared
    _ = scratch.write(input.bytes(upTo: 0), to: "manifest.json")
    let length = Int(input.byte()) | Int(input.byte()) << 8
    var weights: [UInt8] = []
    while weights.count < length && !input.isAtEnd { weights.append(input.byte()) }
    _ = scratch.write(weights, to: "weights.safetensors")
    // No optimizer bytes: no file (a missing step file is the realistic case, and Foundation
    // leaks a buffer per empty file read, which would grow a long run's memory).
    let optimizer = input.rest()
    if optimizer.isEmpty { scratch.remove("optimizer.safetensors") } else { _ = scratch.write(optimizer, to: "optimizer.safetensors") }
    let store = CheckpointStore(directory: scratch.url)
    guard let (_, tensors, optimizerState) = try? store.load() else { return }
    let parameters: ParameterSet
    do {
        parameters = try ParameterSet(
            tensors.tensors.keys.sorted().map { Parameter(name: $0, shape: tensors.tensors[$0]!.shape, values: tensors.tensors[$0]!.values) })
    } catch {
        fuzzCheck(false, "tensor names of one file clash as parameters: \(error)")
        return
    }
    // Shapes match by construction; values may still be refused (non-finite), as a typed error.
    _ = try? CheckpointStore.restore(parameters, from: tensors)
    if let optimizerState {
        var optimizer = AdamW(parameters: parameters)
        _ = try? optimizer.restore(optimizerState)
    }
}
