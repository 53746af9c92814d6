// The comparison report as a figure: cost per question against rounds, one line per method, as a
// self-contained SVG (no fonts, scripts or styles from outside; generic font families only).
import Foundation

extension ComparisonReport {
    /// Two side-by-side panels, "generated tokens per question" and "seconds per question", each against
    /// rounds. RecursiveMAS (latent) and Recursive-TextMAS (text) are polylines with markers (a method with
    /// a single rounds value is a lone marker); the single agent is a horizontal dashed line. Values that
    /// are not finite are drawn as 0, so the output never contains NaN or infinity.
    public func svg() -> String {
        ComparisonPlot(report: self).svg()
    }
}

/// Lays out the two panels of ``ComparisonReport/svg()``.
struct ComparisonPlot {
    let report: ComparisonReport

    static let width = 960.0, height = 440.0
    /// Plot-area margins inside each panel: room for tick labels, axis titles and the panel title.
    static let left = 72.0, right = 16.0, top = 64.0, bottom = 96.0
    /// Horizontal inset so markers at the first and last rounds do not sit on the axes.
    static let inset = 24.0

    struct Series {
        var method: InferenceMethod
        var colour: String
        /// (rounds, value), by rounds.
        var points: [(Double, Double)]
    }

    struct Panel {
        var title: String
        var originX: Double
        var value: (ComparisonReport.Row) -> Double
    }

    /// Method styles: colour and legend label. The single agent is grey and dashed.
    static let styles: [InferenceMethod: (colour: String, label: String)] = [
        .latent: ("#1f77b4", "RecursiveMAS (latent)"),
        .text: ("#d62728", "Recursive-TextMAS (text)"),
        .single: ("#555555", "single agent"),
        .singleTuned: ("#7f7f7f", "single agent, prompt-tuned"),
        .latentZero: ("#9467bd", "latent-zero (control)"),
        .latentShuffled: ("#8c564b", "latent-shuffled (control)"),
        .solverInner: ("#2ca02c", "solver-inner (control)"),
        .selfConsistency: ("#ff7f0e", "self-consistency"),
        .latentTuned: ("#17becf", "RecursiveMAS, answering node prompt-tuned"),
    ]

    func svg() -> String {
        let w = Self.width, h = Self.height
        // Paths can be long (a bundled system sits deep in the build folder): name the files only.
        func file(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }
        let system = report.metadata.system.hasSuffix("/system.json")
            ? file(String(report.metadata.system.dropLast("/system.json".count))) : file(report.metadata.system)
        let title = "RecursiveMAS vs Recursive-TextMAS: \(system) on \(file(report.metadata.data)) (\(report.metadata.questions) questions)"
        var out = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            Self.element("svg", [
                ("xmlns", "http://www.w3.org/2000/svg"), ("width", Self.number(w)), ("height", Self.number(h)),
                ("viewBox", "0 0 \(Self.number(w)) \(Self.number(h))"), ("font-family", "sans-serif"), ("font-size", "12"),
            ], open: true),
            Self.element("rect", [("x", "0"), ("y", "0"), ("width", Self.number(w)), ("height", Self.number(h)), ("fill", "white")]),
            text(title, x: w / 2, y: 24, anchor: "middle", [("font-size", "16"), ("font-weight", "bold")]),
        ]
        let panels = [
            Panel(title: "generated tokens per question", originX: 0) { $0.meanGeneratedTokens },
            Panel(title: "seconds per question", originX: w / 2) { $0.meanSeconds },
        ]
        for panel in panels { out += draw(panel, panelWidth: w / 2) }
        out += legend()
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: - Panels

    func draw(_ panel: Panel, panelWidth: Double) -> [String] {
        let x0 = panel.originX + Self.left, x1 = panel.originX + panelWidth - Self.right
        let y0 = Self.height - Self.bottom, y1 = Self.top
        var out = [
            text(panel.title, x: (x0 + x1) / 2, y: Self.top - 16, anchor: "middle", [("font-size", "14")]),
            Self.element("rect", [
                ("x", Self.number(x0)), ("y", Self.number(y1)), ("width", Self.number(x1 - x0)),
                ("height", Self.number(y0 - y1)), ("fill", "none"), ("stroke", "#888888"),
            ]),
        ]
        let series = lines(panel)
        let flat = report.rows.filter { !$0.method.usesRounds }.map { ($0.method, Self.finite(panel.value($0))) }
        let single = flat.map(\.1).max()
        guard !series.isEmpty || single != nil else {
            out.append(text("no data", x: (x0 + x1) / 2, y: (y0 + y1) / 2, anchor: "middle", [("fill", "#888888")]))
            return out
        }

        // x: the rounds present, evenly scaled; a single value sits in the middle.
        let rounds = Array(Set(series.flatMap { $0.points.map { $0.0 } })).sorted()
        let lo = rounds.first ?? 1, hi = rounds.last ?? 1
        func x(_ r: Double) -> Double {
            hi > lo ? x0 + Self.inset + (r - lo) / (hi - lo) * (x1 - x0 - 2 * Self.inset) : (x0 + x1) / 2
        }
        // y: from 0 to a round number at or above the largest value.
        let largest = (series.flatMap { $0.points.map { $0.1 } } + [single ?? 0]).max() ?? 0
        let (step, top) = Self.niceScale(largest)
        func y(_ v: Double) -> Double { y0 - v / top * (y0 - y1) }

        for r in rounds {
            out.append(line(x(r), y0, x(r), y0 + 5, stroke: "#444444"))
            out.append(text(Self.number(r), x: x(r), y: y0 + 18, anchor: "middle"))
        }
        let decimals = step >= 1 ? 0 : Int((-log10(step)).rounded(.up))
        for i in 0...Int((top / step).rounded()) {
            let v = Double(i) * step
            out.append(line(x0 - 5, y(v), x0, y(v), stroke: "#444444"))
            if i > 0 { out.append(line(x0, y(v), x1, y(v), stroke: "#eeeeee")) }
            out.append(text(String(format: "%.\(decimals)f", v), x: x0 - 8, y: y(v) + 4, anchor: "end"))
        }
        out.append(text("rounds", x: (x0 + x1) / 2, y: y0 + 38, anchor: "middle"))

        for (method, value) in flat { out.append(line(x0, y(value), x1, y(value), stroke: Self.styles[method]!.colour, width: 2, dashed: true)) }
        for s in series {
            let coordinates = s.points.map { (x($0.0), y($0.1)) }
            if coordinates.count > 1 {
                let list = coordinates.map { "\(Self.number($0.0)),\(Self.number($0.1))" }.joined(separator: " ")
                out.append(Self.element("polyline", [("points", list), ("fill", "none"), ("stroke", s.colour), ("stroke-width", "2")]))
            }
            out += coordinates.map { marker(s.method, x: $0.0, y: $0.1) }
        }
        return out
    }

    /// The latent and text series of a panel, each by rounds; methods without rows are left out.
    func lines(_ panel: Panel) -> [Series] {
        InferenceMethod.allCases.filter(\.usesRounds).compactMap { method in
            let points = report.rows.filter { $0.method == method }.sorted { $0.rounds < $1.rounds }
                .map { (Double($0.rounds), Self.finite(panel.value($0))) }
            let style = Self.styles[method]!
            return points.isEmpty ? nil : Series(method: method, colour: style.colour, points: points)
        }
    }

    // MARK: - Legend and marks

    /// One entry per method present, centred under the panels.
    func legend() -> [String] {
        let present = Set(report.rows.map(\.method))
        let methods = InferenceMethod.allCases.filter(present.contains)
        let entryWidth = 220.0, y = Self.height - 28
        var x = (Self.width - entryWidth * Double(methods.count)) / 2
        var out: [String] = []
        for method in methods {
            let style = Self.styles[method]!
            out.append(line(x, y, x + 28, y, stroke: style.colour, width: 2, dashed: !method.usesRounds))
            if method.usesRounds { out.append(marker(method, x: x + 14, y: y)) }
            out.append(text(style.label, x: x + 36, y: y + 4, anchor: "start"))
            x += entryWidth
        }
        return out
    }

    /// A circle for latent, a square for text.
    func marker(_ method: InferenceMethod, x: Double, y: Double) -> String {
        let colour = Self.styles[method]!.colour
        return method == .text
            ? Self.element("rect", [
                ("x", Self.number(x - 4)), ("y", Self.number(y - 4)), ("width", "8"), ("height", "8"), ("fill", colour),
            ])
            : Self.element("circle", [("cx", Self.number(x)), ("cy", Self.number(y)), ("r", "4.5"), ("fill", colour)])
    }

    func line(_ xa: Double, _ ya: Double, _ xb: Double, _ yb: Double, stroke: String, width: Double = 1, dashed: Bool = false) -> String {
        var attributes = [
            ("x1", Self.number(xa)), ("y1", Self.number(ya)), ("x2", Self.number(xb)), ("y2", Self.number(yb)),
            ("stroke", stroke), ("stroke-width", Self.number(width)),
        ]
        if dashed { attributes.append(("stroke-dasharray", "6 4")) }
        return Self.element("line", attributes)
    }

    func text(_ content: String, x: Double, y: Double, anchor: String, _ extra: [(String, String)] = []) -> String {
        Self.element("text", [("x", Self.number(x)), ("y", Self.number(y)), ("text-anchor", anchor)] + extra, content: content)
    }

    /// `<name a="v" …/>`, `<name …>content</name>`, or with `open` just `<name …>`; values and content escaped.
    static func element(_ name: String, _ attributes: [(String, String)], content: String? = nil, open: Bool = false) -> String {
        let head = "<" + ([name] + attributes.map { "\($0.0)=\"\(escape($0.1))\"" }).joined(separator: " ")
        if open { return head + ">" }
        return content.map { head + ">" + escape($0) + "</\(name)>" } ?? head + "/>"
    }

    // MARK: - Numbers and text

    /// A tick step of 1, 2 or 5 × 10ᵏ giving about five intervals, and the axis top (a multiple of the step
    /// at or above `largest`). A largest value of 0 (or below, or not finite) gives the axis 0…1.
    static func niceScale(_ largest: Double) -> (step: Double, top: Double) {
        guard largest.isFinite, largest > 0 else { return (0.2, 1) }
        let raw = largest / 5
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        return (step, max(step, (largest / step).rounded(.up) * step))
    }

    /// `x` when finite, 0 otherwise.
    static func finite(_ x: Double) -> Double { x.isFinite ? x : 0 }

    /// A coordinate or rounds label with at most one decimal; never "nan" or "inf".
    static func number(_ x: Double) -> String {
        let v = finite(x)
        return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.1f", v)
    }

    /// Text made safe for XML character data and attribute values. Control characters, which XML 1.0
    /// cannot hold even escaped, become spaces.
    static func escape(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case _ where scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value): out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
