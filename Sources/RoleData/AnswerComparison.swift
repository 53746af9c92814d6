/// Strict comparison of a predicted final answer with the expected one.
///
/// Both sides are brought to a canonical form and compared exactly:
/// 1. all whitespace is removed;
/// 2. if the rest is a decimal number — optional sign, digits (optionally grouped in threes by
///    commas, as in "1,200"), optional fraction — it becomes its canonical decimal: no grouping
///    commas, no "+" sign, no leading zeros, no trailing fractional zeros or bare ".", and "-0"
///    as "0". So "1,200" = "1200", "16.0" = "16" = "16.", "2.50" = "2.5", "070" = "70";
/// 3. anything else is compared as the whitespace-free string ("1/2" ≠ "0.5", "$18" ≠ "18").
///
/// The comparison works on the decimal digits, never on floating point, so "0.1" and
/// "0.1000000001" differ. It is deliberately stricter than the reference's MATH grader (spec
/// §6.2), which also accepts when the integer parts of the first numbers agree (e.g. "4.5" for
/// "\frac{14}{3}"); scores from this comparator are therefore lower-or-equal to the reference's.
public enum AnswerComparator {
    /// Whether `predicted` (nil: no answer was found) equals `expected` after ``canonical(_:)``.
    public static func matches(_ predicted: String?, expected: String) -> Bool {
        guard let predicted else { return false }
        return canonical(predicted) == canonical(expected)
    }

    /// The canonical form used by ``matches(_:expected:)``.
    public static func canonical(_ answer: String) -> String {
        let compact = String(answer.filter { !$0.isWhitespace })
        return canonicalNumber(compact) ?? compact
    }

    /// The canonical decimal of `text`, or nil if `text` is not a plain decimal number.
    static func canonicalNumber(_ text: String) -> String? {
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        let parts = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integerPart = parts[0]
        let fractionPart = parts.count == 2 ? parts[1] : nil
        guard let integerDigits = digitsOfInteger(integerPart) else { return nil }
        if let fractionPart, !fractionPart.allSatisfy(\.isASCIIDigit) { return nil }
        if integerDigits.isEmpty && (fractionPart ?? "").isEmpty { return nil }

        var integer = String(integerDigits.drop { $0 == "0" })
        if integer.isEmpty { integer = "0" }
        let fraction = String((fractionPart ?? "").reversed().drop { $0 == "0" }.reversed())
        let magnitude = fraction.isEmpty ? integer : integer + "." + fraction
        return negative && magnitude != "0" ? "-" + magnitude : magnitude
    }

    /// The digits of an integer part written plainly ("1200") or grouped ("1,200"); "" for an
    /// empty part; nil if it is neither.
    private static func digitsOfInteger(_ part: Substring) -> Substring? {
        guard part.contains(",") else { return part.allSatisfy(\.isASCIIDigit) ? part : nil }
        let groups = part.split(separator: ",", omittingEmptySubsequences: false)
        guard let head = groups.first, (1...3).contains(head.count),
            groups.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
            groups.dropFirst().allSatisfy({ $0.count == 3 })
        else { return nil }
        return Substring(groups.joined())
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
