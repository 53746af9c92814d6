// Provenance: tensor roles and shapes as llama.cpp llama-model.cpp loads them for LLM_ARCH_LLAMA,
// LLM_ARCH_QWEN2 and LLM_ARCH_GEMMA3 (GGUF dims fastest-first: a [out × in] weight is stored [in, out]).
import GGUF
import Kernels

/// One transformer block's weights: views into the mapped file plus small fp32 vectors.
public struct LayerWeights: Sendable {
    public let attentionNorm: [Float]  // [D]
    public let query: Linear  // [H·Dh × D]
    public let key: Linear  // [Hkv·Dh × D]
    public let value: Linear  // [Hkv·Dh × D]
    public let queryBias, keyBias, valueBias: [Float]?  // qwen2: [H·Dh], [Hkv·Dh], [Hkv·Dh]
    public let queryNorm, keyNorm: [Float]?  // gemma3: [Dh]
    public let attentionOutput: Linear  // [D × H·Dh]
    public let postAttentionNorm: [Float]?  // gemma3: [D]
    public let ffnNorm: [Float]  // [D]
    public let ffnGate: Linear  // [F × D]
    public let ffnUp: Linear  // [F × D]
    public let ffnDown: Linear  // [D × F]
    public let postFFNNorm: [Float]?  // gemma3: [D]
}

/// All weights of a model, checked against its configuration at load.
public struct TransformerWeights: Sendable {
    public let tokenEmbedding: QuantizedMatrix  // [V × D]
    public let layers: [LayerWeights]
    public let outputNorm: [Float]  // [D]
    /// The LM head `[V × D]`; the token embedding itself when the model ties them.
    public let output: Linear

    public init(file: GGUFFile, configuration c: ModelConfiguration) throws(ModelError) {
        let loader = TensorLoader(file: file)
        let d = c.width, qWidth = c.headCount * c.keyLength, kvWidth = c.kvHeadCount * c.keyLength
        let vWidth = c.kvHeadCount * c.valueLength
        tokenEmbedding = try loader.matrix(TensorNames.tokenEmbedding, rows: c.vocabularySize, columns: d)
        outputNorm = try loader.vector(TensorNames.outputNorm, count: d)
        if file.tensor(named: TensorNames.output) != nil {
            output = Linear(try loader.matrix(TensorNames.output, rows: c.vocabularySize, columns: d))
        } else {
            output = Linear(tokenEmbedding)
        }
        let arch = c.architecture, hasBias = arch.hasAttentionBiases
        layers = try (0..<c.layerCount).map { (i: Int) throws(ModelError) -> LayerWeights in
            func name(_ n: String) -> String { TensorNames.layer(i, n) }
            func linear(_ n: String, _ rows: Int, _ columns: Int) throws(ModelError) -> Linear {
                Linear(try loader.matrix(name(n), rows: rows, columns: columns))
            }
            func vector(_ n: String, _ count: Int) throws(ModelError) -> [Float] { try loader.vector(name(n), count: count) }
            return LayerWeights(
                attentionNorm: try vector(TensorNames.attentionNorm, d),
                query: try linear(TensorNames.query, qWidth, d),
                key: try linear(TensorNames.key, kvWidth, d),
                value: try linear(TensorNames.value, vWidth, d),
                queryBias: hasBias ? try vector(TensorNames.queryBias, qWidth) : nil,
                keyBias: hasBias ? try vector(TensorNames.keyBias, kvWidth) : nil,
                valueBias: hasBias ? try vector(TensorNames.valueBias, vWidth) : nil,
                queryNorm: arch.hasQueryKeyNorms ? try vector(TensorNames.queryNorm, c.keyLength) : nil,
                keyNorm: arch.hasQueryKeyNorms ? try vector(TensorNames.keyNorm, c.keyLength) : nil,
                attentionOutput: try linear(TensorNames.attentionOutput, d, c.headCount * c.valueLength),
                postAttentionNorm: arch.hasPostNorms ? try vector(TensorNames.postAttentionNorm, d) : nil,
                ffnNorm: try vector(TensorNames.ffnNorm, d),
                ffnGate: try linear(TensorNames.ffnGate, c.ffnWidth, d),
                ffnUp: try linear(TensorNames.ffnUp, c.ffnWidth, d),
                ffnDown: try linear(TensorNames.ffnDown, d, c.ffnWidth),
                postFFNNorm: arch.hasPostNorms ? try vector(TensorNames.postFFNNorm, d) : nil)
        }
    }
}

/// Looks tensors up by name and checks their shapes and types, throwing ``ModelError``.
struct TensorLoader {
    let file: GGUFFile

    func info(_ name: String, dims: [Int]) throws(ModelError) -> GGUFTensorInfo {
        guard let info = file.tensor(named: name) else { throw .missingTensor(name) }
        guard info.dimensions == dims else { throw .tensorShape(name: name, expected: dims, found: info.dimensions) }
        return info
    }

    func matrix(_ name: String, rows: Int, columns: Int) throws(ModelError) -> QuantizedMatrix {
        let info = try info(name, dims: [columns, rows])
        let m: QuantizedMatrix
        do {
            m = try QuantizedMatrix(bytes: file.bytes(of: info), type: info.type, rows: rows, columns: columns)
        } catch {
            throw .unsupportedTensorType(name: name, type: info.type.description)
        }
        if let row = m.firstNonFiniteRow() { throw .nonFiniteWeights(name: name, detail: "row \(row)") }
        return m
    }

    func vector(_ name: String, count: Int) throws(ModelError) -> [Float] {
        let info = try info(name, dims: [count])
        let m: QuantizedMatrix
        do {
            m = try QuantizedMatrix(bytes: file.bytes(of: info), type: info.type, rows: 1, columns: count)
        } catch {
            throw .unsupportedTensorType(name: name, type: info.type.description)
        }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { m.dequantizeRow(0, into: $0) }
        if let i = values.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteWeights(name: name, detail: "element \(i) is \(values[i])") }
        return values
    }
}
