/// Prompt text made of template text (where control tokens such as `<|im_start|>` are meant)
/// and message content (where the same characters are just text).
///
/// Tokenizing it recognises control tokens only outside ``contentRanges``, so content cannot
/// inject turn boundaries; inside them it behaves as `parseSpecial: false` (user-defined tokens
/// still match, as in llama.cpp). Content without control-token text tokenizes exactly as the
/// plain string would.
public struct RenderedPrompt: Sendable, Hashable {
    public var text = ""
    /// UTF-8 byte ranges of `text` that hold message content, ascending and disjoint.
    public var contentRanges: [Range<Int>] = []

    public init() {}

    /// Appends template text.
    public mutating func appendTemplate(_ part: String) { text += part }

    /// Appends message content.
    public mutating func appendContent(_ part: String) {
        let start = text.utf8.count
        text += part
        if !part.isEmpty { contentRanges.append(start ..< start + part.utf8.count) }
    }

    /// The content ranges that fall inside bytes `window` of `text`, relative to its start.
    public func contentRanges(within window: Range<Int>) -> [Range<Int>] {
        contentRanges.compactMap { range in
            let low = max(range.lowerBound, window.lowerBound), high = min(range.upperBound, window.upperBound)
            return low < high ? (low - window.lowerBound) ..< (high - window.lowerBound) : nil
        }
    }
}
