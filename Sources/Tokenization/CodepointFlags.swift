// Provenance: must match llama.cpp src/unicode.cpp `unicode_cpt_flags_from_cpt` — general
// category buckets (\p{L}, \p{N}, \p{P}, …) from its generated tables, which are Unicode 15.1,
// and `is_whitespace` from the White_Space property.

/// The character classes llama.cpp's pre-tokenizers test, for one code point.
///
/// `rawValue == 0` means "outside the text being split", as llama.cpp's splitters see positions
/// past a fragment's end; every real code point has at least one bit (unassigned ones have
/// `.undefined`).
struct CodepointFlags: OptionSet, Sendable {
    let rawValue: UInt16

    static let undefined = CodepointFlags(rawValue: 1 << 0)
    static let number = CodepointFlags(rawValue: 1 << 1)  // \p{N}
    static let letter = CodepointFlags(rawValue: 1 << 2)  // \p{L}
    static let separator = CodepointFlags(rawValue: 1 << 3)  // \p{Z}
    static let mark = CodepointFlags(rawValue: 1 << 4)  // \p{M}
    static let punctuation = CodepointFlags(rawValue: 1 << 5)  // \p{P}
    static let symbol = CodepointFlags(rawValue: 1 << 6)  // \p{S}
    static let control = CodepointFlags(rawValue: 1 << 7)  // \p{C}
    static let whitespace = CodepointFlags(rawValue: 1 << 8)  // \s

    init(rawValue: UInt16) { self.rawValue = rawValue }

    /// No bits: a position outside the current fragment.
    static let outside = CodepointFlags([])

    var isLetter: Bool { contains(.letter) }
    var isNumber: Bool { contains(.number) }
    var isWhitespace: Bool { contains(.whitespace) }
    var isInside: Bool { rawValue != 0 }

    /// Flags of a code point, as llama.cpp classifies it.
    @inline(__always)
    static func of(_ scalar: UInt32) -> CodepointFlags {
        if scalar < 0x10000 {
            return CodepointFlags(rawValue: basicPlaneFlags[Int(scalar)])
        }
        return compute(scalar)
    }

    /// The newest Unicode version llama.cpp's tables know. Code points assigned later are
    /// unassigned there, so they are classified as `.undefined` here too, whatever the
    /// Swift runtime's (newer) Unicode data says.
    static let tableVersion = (major: 15, minor: 1)

    static func compute(_ value: UInt32) -> CodepointFlags {
        // Surrogates are not scalars; llama.cpp files them under \p{C} (Cs).
        guard let scalar = Unicode.Scalar(value) else { return .control }
        let properties = scalar.properties
        var flags: CodepointFlags = properties.isWhitespace ? .whitespace : []
        guard let age = properties.age,
            age.major < tableVersion.major
                || (age.major == tableVersion.major && age.minor <= tableVersion.minor)
        else {
            return flags.union(.undefined)
        }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            flags.insert(.letter)
        case .nonspacingMark, .spacingMark, .enclosingMark:
            flags.insert(.mark)
        case .decimalNumber, .letterNumber, .otherNumber:
            flags.insert(.number)
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            flags.insert(.punctuation)
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            flags.insert(.symbol)
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            flags.insert(.separator)
        case .control, .format, .surrogate, .privateUse:
            flags.insert(.control)
        case .unassigned:
            flags.insert(.undefined)
        @unknown default:
            flags.insert(.undefined)
        }
        return flags
    }
}

/// Flags for U+0000…U+FFFF, computed once on first use (about a millisecond); planes above are
/// classified on demand.
private let basicPlaneFlags: [UInt16] = (0..<0x10000).map { CodepointFlags.compute(UInt32($0)).rawValue }
