// `rmas system`: inspect and check system files (agent graphs) without loading any model (`latents`, in
// its own file, loads them).
import Agents
import ArgumentParser
import Foundation

struct SystemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system", abstract: "Check a system file, print it as a normalised agent graph, or measure its latents.",
        subcommands: [Show.self, Check.self, List.self, Latents.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the system as agent-graph JSON (an earlier sequential file comes out converted).")
        @OptionGroup var systemArguments: SystemArguments

        func run() throws {
            print(String(decoding: try systemArguments.definition().encoded(), as: UTF8.self))
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a system file's graph (no model is loaded).")
        @OptionGroup var systemArguments: SystemArguments

        func run() throws {
            let graph = try systemArguments.definition()
            let feedback = graph.edges.filter { $0.direction == .feedback }.count
            print("\(systemArguments.url.path): valid \(graph.style.rawValue) graph, \(graph.nodes.count) nodes, "
                  + "\(graph.edges.count) edges (\(feedback) feedback), answer '\(graph.schedule.answer)', \(graph.schedule.rounds) rounds")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the shipped presets.")

        func run() throws {
            for name in Presets.names {
                guard let url = Presets.url(name), let graph = try? GraphDefinition.load(url) else { continue }
                let nodes = graph.nodes.map { "\($0.id) (\($0.model))" }.joined(separator: ", ")
                let trained = graph.nodes.allSatisfy { $0.innerLink != nil } && graph.edges.allSatisfy { $0.checkpoint != nil }
                print("\(name.padding(toLength: 13, withPad: " ", startingAt: 0)) \(graph.style.rawValue): \(nodes)\(trained ? "; trained links" : "; untrained links")")
            }
        }
    }
}
