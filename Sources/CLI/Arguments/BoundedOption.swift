// The one mechanism by which every numeric option of every command declares its allowed values:
// `@Option(help: "Optimizer steps.", in: 1...10_000_000) var steps = 2000`. The value is checked
// while the command line is parsed, so a bad one is refused before anything is loaded or written,
// with a message naming the option (ArgumentParser's "The value '-5' is invalid for '--steps
// <steps>'") and the range (ours: "expected an integer in 1…10000000"); the range also ends the
// option's help line, where the executable grid test reads it back from `--experimental-dump-help`.
import ArgumentParser
import Foundation

/// Why a numeric option's value was refused; ArgumentParser prefixes the option's name and value.
struct OptionRangeError: Error, CustomStringConvertible {
    let description: String
}

/// A number type an option can be bounded in: parsed strictly (no NaN, no infinity, no overflow).
protocol BoundedNumber: Comparable, Sendable {
    /// The value of `text`, nil when it is not a finite number of this type.
    static func strictParse(_ text: String) -> Self?
    /// "an integer", "a finite number".
    static var kindDescription: String { get }
    /// How the value is written in messages and help.
    var boundText: String { get }
}

extension Int: BoundedNumber {
    static func strictParse(_ text: String) -> Int? { Int(text) }
    static var kindDescription: String { "an integer" }
    var boundText: String { String(self) }
}

extension UInt64: BoundedNumber {
    static func strictParse(_ text: String) -> UInt64? { UInt64(text) }
    static var kindDescription: String { "an integer" }
    var boundText: String { String(self) }
}

extension Float: BoundedNumber {
    static func strictParse(_ text: String) -> Float? { Float(text).flatMap { $0.isFinite ? $0 : nil } }
    static var kindDescription: String { "a finite number" }
    var boundText: String { Double(self).boundText }
}

extension Double: BoundedNumber {
    static func strictParse(_ text: String) -> Double? { Double(text).flatMap { $0.isFinite ? $0 : nil } }
    static var kindDescription: String { "a finite number" }
    var boundText: String {
        self == rounded() && abs(self) < 1e15 ? "\(Int64(self)).0" : String(describing: self)
    }
}

/// Parsers and help text for bounded options.
enum OptionBounds {
    /// Parses one value and checks it lies in `range`.
    static func value<T: BoundedNumber>(_ text: String, in range: ClosedRange<T>) throws -> T {
        guard let value = T.strictParse(text), range.contains(value) else {
            throw OptionRangeError(description: "expected \(T.kindDescription) in \(describe(range))")
        }
        return value
    }

    /// "1…10000000".
    static func describe<T: BoundedNumber>(_ range: ClosedRange<T>) -> String {
        "\(range.lowerBound.boundText)…\(range.upperBound.boundText)"
    }

    /// The help line with the range appended, as the grid test expects: "Optimizer steps. (range: 1…10000000)".
    static func help<T: BoundedNumber>(_ text: String, _ range: ClosedRange<T>) -> ArgumentHelp {
        ArgumentHelp("\(text) (range: \(describe(range)))")
    }
}

extension Option where Value: BoundedNumber {
    /// A numeric option with a default, accepted only in `range`.
    init(wrappedValue: Value, name: NameSpecification = .long, help: String, in range: ClosedRange<Value>) {
        self.init(wrappedValue: wrappedValue, name: name, help: OptionBounds.help(help, range),
                  transform: { try OptionBounds.value($0, in: range) })
    }
}

extension Option {

    /// An optional numeric option (nil when not given), accepted only in `range`.
    init<T: BoundedNumber>(name: NameSpecification = .long, help: String, in range: ClosedRange<T>) where Value == T? {
        self.init(wrappedValue: nil, name: name, help: OptionBounds.help(help, range),
                  transform: { try OptionBounds.value($0, in: range) })
    }

    /// A comma-separated list of numbers, each accepted only in `range`.
    init<T: BoundedNumber & ExpressibleByArgument>(
        wrappedValue: CommaSeparated<T>, name: NameSpecification = .long, help: String, in range: ClosedRange<T>
    ) where Value == CommaSeparated<T> {
        self.init(wrappedValue: wrappedValue, name: name, help: OptionBounds.help(help, range), transform: { text in
            let items = text.split(separator: ",", omittingEmptySubsequences: false)
            return CommaSeparated(try items.map { item in
                guard let value = T.strictParse(item.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
                    throw OptionRangeError(description: "expected comma-separated \(T.kindDescription)s, each in \(OptionBounds.describe(range))")
                }
                return value
            })
        })
    }
}

/// Ranges that several commands' options share.
enum OptionRange {
    static let threads = 1...512
    static let seed = UInt64.min...UInt64.max
    static let steps = 1...100_000_000
    static let rows = 0...100_000_000
    static let tokens = 0...1_048_576
    static let latentSteps = 0...65_536
    static let rounds = 1...64
    static let temperature: ClosedRange<Float> = 0...100
    static let samples = 1...1_000
}
