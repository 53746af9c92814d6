// libFuzzer entry point for system files (Sources/Agents/Graph): arbitrary bytes decoded as a
// graph file or an earlier sequential file, then validated; no model is loaded. A graph that
// validates also renders every node's prompts (the templates are untrusted text). A crash or
// sanitizer report is a finding; so is a valid graph that does not survive being written and
// read back (fuzzCheck). Written for this project.
import Agents
import Foundation
import FuzzSupport
import RoleData

@main
enum Entry {
    static func main() { runLibFuzzer(fuzzSystemFile) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSystemFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzEntry(data, size) { bytes in
        let data = Data(bytes)
        guard let graph = try? GraphDefinition.decode(data, file: "fuzz.json") else { return }
        do { try graph.validate(file: "fuzz.json") } catch { return }

        // A valid graph written as rmas writes it must read back equal and still be valid.
        guard let encoded = try? graph.encoded() else {
            fuzzCheck(false, "a valid graph cannot be encoded")
            return
        }
        do {
            let again = try GraphDefinition.decode(encoded, file: "again.json")
            fuzzCheck(again == graph, "a graph changed on being written and read back")
            try again.validate(file: "again.json")
        } catch {
            fuzzCheck(false, "a valid graph, written and read back, fails: \(error)")
        }

        // Prompt rendering over the validated templates.
        let question = "Which is larger?\nA. 2\nB) 3"
        var fields: [String: String] = [:]
        for node in graph.nodes { if let target = node.target { fields[target] = "text of \(node.id) {slot:x}" } }
        let row = DataRow(question: question, fields: fields)
        for index in graph.nodes.indices {
            for round in 1...min(graph.schedule.rounds + 1, 3) {
                _ = graph.userPrompt(index, question: question, round: round, slotTexts: ["feedback": "{question}"])
            }
            _ = graph.trainingPair(index, row: row)
        }
        _ = graph.singleUserPrompt(question: "{instruction}")
    }
}
