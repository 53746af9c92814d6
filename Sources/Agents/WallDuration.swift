/// A wall-clock span typed by a person: `45s`, `90m`, `2h30m`, `1.5h`, `1d`, or a bare number of
/// seconds (as timeout(1) reads it). Units: d, h, m, s; each number may have a fraction; the
/// parts add up. `--stop-after` of `rmas compare` and the trainers takes one.
public struct WallDuration: Sendable, Equatable, CustomStringConvertible {
    public let seconds: Double

    /// The longest span accepted: a year (a typo such as `9999999h` is refused, not waited out).
    public static let maximumSeconds = 365.0 * 86_400

    /// nil for anything else: an empty string, an unknown unit, a unit twice or out of order
    /// (`30m2h`), a negative, zero or non-finite span, or one above ``maximumSeconds``.
    public init?(parsing text: String) {
        let units: [(Character, Double)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        var total = 0.0, number = "", nextUnit = 0
        for character in text {
            if character.isASCII, character.isNumber || character == "." {
                number.append(character)
            } else if let at = units.firstIndex(where: { $0.0 == character }), at >= nextUnit,
                      let value = Double(number), value.isFinite {
                total += value * units[at].1
                number = ""
                nextUnit = at + 1
            } else {
                return nil
            }
        }
        if !number.isEmpty {
            guard nextUnit == 0, let value = Double(number) else { return nil }  // bare seconds only alone
            total = value
        } else if nextUnit == 0 {
            return nil  // empty
        }
        guard total.isFinite, total > 0, total <= Self.maximumSeconds else { return nil }
        seconds = total
    }

    public var duration: Duration { .milliseconds(Int64((seconds * 1_000).rounded())) }

    /// `2h30m5s`-style, whole seconds (under a second: as typed, `0.25s`).
    public var description: String {
        if seconds < 1 { return "\(seconds)s" }
        let s = Int(seconds.rounded())
        let (h, m, r) = (s / 3_600, (s % 3_600) / 60, s % 60)
        return (h > 0 ? "\(h)h" : "") + (m > 0 ? "\(m)m" : "") + (r > 0 || s == 0 ? "\(r)s" : "")
    }
}
