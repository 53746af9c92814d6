import Kernels

/// A native generator of multi-step arithmetic word problems (shopping, sharing, rates, …) with
/// plan / refined plan / answer texts for the three sequential roles.
///
/// Every problem is built from an ``ArithmeticProblem``: the template draws the numbers, writes
/// the question, and lists the 3–4 integer steps that solve it; the role texts then follow from the
/// steps by the rule in ``ArithmeticProblem/roleTexts``. Numbers are chosen so that every
/// intermediate result is a positive integer and every division is exact.
///
/// Generation is deterministic: the same seed and template list give the same rows on every
/// machine, because all draws come from ``SplitMix64`` through ``SplitMix64/uniform(_:)``
/// (rejection sampling, independent of the standard library's algorithms).
///
/// ```swift
/// let rows = SyntheticArithmetic(seed: 7).generate(count: 1000)
/// let heldOut = SyntheticArithmetic(seed: 8, templates: [.travel]).generate(count: 100)
/// ```
public struct SyntheticArithmetic: Sequence, Sendable {
    /// The problem families. Rows record theirs in ``RoleExample/generator`` as
    /// "synthetic-arithmetic/<rawValue>", so a split can hold whole templates out.
    public enum Template: String, CaseIterable, Sendable {
        /// Buy two kinds of items, pay with a bill, get change (4 steps).
        case shopping
        /// Bake trays, keep some, share the rest equally (3 steps).
        case sharing
        /// A machine's rate over two shifts, packed into boxes (3 steps).
        case production
        /// Weekly earnings minus spending towards a price (3 steps).
        case saving
        /// Adult and child tickets, cost split among the adults (4 steps).
        case tickets
        /// Two legs of a drive, then fuel by distance (4 steps).
        case travel
        /// Rows of plants, some fail, each survivor yields fruit (3 steps).
        case harvest
    }

    /// The value of ``RoleExample/source`` on every generated row.
    public static let source = "synthetic-arithmetic"

    /// The seed of the first draw.
    public let seed: UInt64
    /// The templates drawn from, uniformly, for each problem.
    public let templates: [Template]

    /// A generator over `templates` (all by default) starting from `seed`.
    public init(seed: UInt64, templates: [Template] = Template.allCases) {
        precondition(!templates.isEmpty, "SyntheticArithmetic needs at least one template")
        self.seed = seed
        self.templates = templates
    }

    /// The first `count` rows for this seed (the same rows on every call).
    public func generate(count: Int) -> [RoleExample] {
        Array(prefix(count))
    }

    /// The first `count` problems for this seed, with their computations; row `i` of
    /// ``generate(count:)`` is `problems(count:)[i].roleExample`.
    public func problems(count: Int) -> [ArithmeticProblem] {
        var iterator = makeIterator()
        return (0..<count).map { _ in iterator.nextProblem() }
    }

    /// A fresh stream of rows starting from ``seed``.
    public func makeIterator() -> Iterator { Iterator(seed: seed, templates: templates) }

    /// An endless stream of rows.
    public struct Iterator: IteratorProtocol, Sendable {
        private var rng: SplitMix64
        private let templates: [Template]

        init(seed: UInt64, templates: [Template]) {
            rng = SplitMix64(seed: seed)
            self.templates = templates
        }

        /// The next row; never nil.
        public mutating func next() -> RoleExample? { nextProblem().roleExample }

        /// The next problem with its computation.
        public mutating func nextProblem() -> ArithmeticProblem {
            let template = rng.pick(templates)
            return template.make(&rng)
        }
    }
}

extension ArithmeticProblem {
    /// The problem as a role-data row (source ``SyntheticArithmetic/source``, generator
    /// "synthetic-arithmetic/<template>", final answer the result).
    public var roleExample: RoleExample {
        let texts = roleTexts
        return RoleExample(
            question: question, plan: texts.plan, refinedPlan: texts.refinedPlan, answer: texts.answer,
            finalAnswer: String(result), source: SyntheticArithmetic.source,
            generator: "\(SyntheticArithmetic.source)/\(template)")
    }
}

extension SplitMix64 {
    /// A uniform integer in `range`, by rejection sampling on ``next()`` (no modulo bias).
    public mutating func uniform(_ range: ClosedRange<Int>) -> Int {
        let low = UInt64(bitPattern: Int64(range.lowerBound))
        let span = UInt64(bitPattern: Int64(range.upperBound)) &- low &+ 1  // 0 means 2^64
        if span == 0 { return Int(truncatingIfNeeded: next()) }  // the full 64-bit range
        let limit = UInt64.max - UInt64.max % span  // draws ≥ limit would bias the low values
        var draw = next()
        while draw >= limit { draw = next() }
        return Int(truncatingIfNeeded: low &+ draw % span)
    }

    /// A uniformly chosen element of the non-empty `items`.
    public mutating func pick<T>(_ items: [T]) -> T {
        items[uniform(0...(items.count - 1))]
    }
}
