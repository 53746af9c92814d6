// Structural checks of an agent graph, made once at load: ids, edges, schedule, slots, cycles and
// reachability. Each failure is a typed error naming the file and the node, edge or slot.

import RoleData

extension GraphDefinition {
    /// Throws the first structural problem; `file` labels the error.
    public func validate(file: String) throws(GraphError) {
        func fail(_ place: String, _ problem: String) -> GraphError { .invalid(file: file, place: place, problem: problem) }
        guard !nodes.isEmpty else { throw fail("nodes", "a graph needs at least one node") }
        var index: [String: Int] = [:]
        for (i, node) in nodes.enumerated() {
            guard !node.id.isEmpty, node.id.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }) else {
                throw fail("node \(i)", "id \"\(node.id)\" must be letters, digits, '_' or '-'")
            }
            guard index.updateValue(i, forKey: node.id) == nil else { throw fail("node '\(node.id)'", "the id is used twice") }
            guard !node.model.isEmpty else { throw fail("node '\(node.id)'", "model is empty") }
            if case .toolLoop(let options) = node.decoder {
                guard options.maxCalls >= 1, !options.tools.isEmpty else { throw fail("node '\(node.id)'", "a tool loop needs tools and max_calls ≥ 1") }
                if options.tools.contains(.search), documents == nil {
                    throw fail("node '\(node.id)'", "the search tool needs \"documents\" (a JSONL collection) in the system file")
                }
            }
        }
        var prefixes = Set<String>()
        for edge in edges {
            let place = "edge '\(edge.from)' → '\(edge.to)'"
            guard index[edge.from] != nil else { throw fail(place, "no node '\(edge.from)'") }
            guard index[edge.to] != nil else { throw fail(place, "no node '\(edge.to)'") }
            guard edge.from != edge.to else { throw fail(place, "an edge must join two nodes (a node's own thinking is its inner link)") }
            guard prefixes.insert(edge.parameterPrefix).inserted else {
                throw fail(place, "declared twice (its link parameters \"\(edge.parameterPrefix)…\" would be shared)")
            }
            guard !edge.slot.isEmpty, !edge.slot.contains("}") else { throw fail(place, "slot name \"\(edge.slot)\" is not valid") }
        }
        // Schedule: every node exactly once, the answering node among them.
        let place = "schedule"
        guard schedule.rounds >= 1 else { throw fail(place, "rounds must be at least 1") }
        for id in schedule.order where index[id] == nil { throw fail(place, "order names no node '\(id)'") }
        let listed = Dictionary(schedule.order.map { ($0, 1) }, uniquingKeysWith: +)
        for node in nodes where listed[node.id] != 1 {
            throw fail(place, "order must list node '\(node.id)' exactly once")
        }
        guard index[schedule.answer] != nil else { throw fail(place, "answer names no node '\(schedule.answer)'") }
        let d = defaults
        guard d.latentSteps >= 1, d.maxTokens >= 1, d.maxLatentTokens >= 1 else {
            throw fail("defaults", "latent_steps, max_tokens and max_latent_tokens must be at least 1")
        }
        try checkCycles(fail)
        let position = Dictionary(uniqueKeysWithValues: schedule.order.enumerated().map { ($1, $0) })
        for edge in edges where edge.direction == .forward && position[edge.from]! > position[edge.to]! {
            throw fail("edge '\(edge.from)' → '\(edge.to)'", "'\(edge.from)' acts after '\(edge.to)' in the schedule; make it a feedback edge or reorder")
        }
        try checkSlots(fail)
        try checkReachability(fail)
    }

    /// Forward edges must form no cycle: a loop needs a feedback edge to say which round it crosses.
    /// Iterative depth-first search over an adjacency map (linear in nodes + edges, no recursion:
    /// a hostile file's long chain cannot exhaust the stack).
    private func checkCycles(_ fail: (String, String) -> GraphError) throws(GraphError) {
        var next: [String: [String]] = [:]
        for edge in edges where edge.direction == .forward { next[edge.from, default: []].append(edge.to) }
        var state: [String: Int] = [:]  // 1 on the current path, 2 done
        for node in nodes where state[node.id] == nil {
            var path: [(id: String, child: Int)] = [(node.id, 0)]
            state[node.id] = 1
            while let top = path.last {
                let children = next[top.id] ?? []
                guard top.child < children.count else {
                    state[top.id] = 2
                    path.removeLast()
                    continue
                }
                path[path.count - 1].child += 1
                let child = children[top.child]
                switch state[child] {
                case 1:
                    let ids = path.map(\.id), start = ids.firstIndex(of: child)!
                    throw fail("edges", "cycle with no feedback edge: \((ids[start...] + [child]).joined(separator: " → "))")
                case 2: continue
                default:
                    state[child] = 1
                    path.append((child, 0))
                }
            }
        }
    }

    /// Each slot of each template is filled by exactly one edge into that node; round-1 templates
    /// only by forward edges; every edge's slot appears where it can be delivered.
    private func checkSlots(_ fail: (String, String) -> GraphError) throws(GraphError) {
        let incomingEdges = Dictionary(grouping: edges, by: \.to)
        for node in nodes {
            let incoming = incomingEdges[node.id] ?? []
            for (slot, edgesForSlot) in Dictionary(grouping: incoming, by: \.slot) where edgesForSlot.count > 1 {
                let sources = edgesForSlot.map { "'\($0.from)'" }.joined(separator: " and ")
                throw fail("node '\(node.id)'", "slot '\(slot)' is filled twice (by \(sources))")
            }
            let first = PromptFill.slots(in: node.prompts.firstRound)
            let later = PromptFill.slots(in: node.prompts.template(round: 2))
            for (template, slots, round1) in [("first_round", first, true), ("later_rounds", later, false)] {
                if !round1, node.prompts.laterRounds == nil { continue }
                for slot in slots {
                    guard let edge = incoming.first(where: { $0.slot == slot }) else {
                        throw fail("node '\(node.id)'", "slot '\(slot)' in its \(template) prompt is filled by no edge")
                    }
                    if round1, edge.direction == .feedback {
                        throw fail("node '\(node.id)'", "slot '\(slot)' in its first_round prompt is fed by the feedback edge from '\(edge.from)', which has nothing to deliver in round 1; put it in later_rounds")
                    }
                }
                if Set(slots).count != slots.count { throw fail("node '\(node.id)'", "its \(template) prompt repeats a slot") }
            }
            for edge in incoming {
                let used = edge.direction == .forward ? first.contains(edge.slot) || later.contains(edge.slot) : later.contains(edge.slot)
                let needed = edge.direction == .forward ? "its prompts" : "its later_rounds prompt"
                if !used || (edge.direction == .feedback && node.prompts.laterRounds == nil) {
                    throw fail("edge '\(edge.from)' → '\(edge.to)'", "slot '\(edge.slot)' is not in \(needed) of node '\(node.id)'")
                }
                if edge.direction == .forward, node.prompts.laterRounds != nil, !(first.contains(edge.slot) && later.contains(edge.slot)) {
                    throw fail("edge '\(edge.from)' → '\(edge.to)'", "a forward slot must be in both of node '\(node.id)''s prompts ('\(edge.slot)' is missing from one)")
                }
            }
        }
    }

    /// Every node's output must reach the answering node (else its work is wasted).
    private func checkReachability(_ fail: (String, String) -> GraphError) throws(GraphError) {
        let sources = Dictionary(grouping: edges, by: \.to).mapValues { $0.map(\.from) }
        var reaches: Set<String> = [schedule.answer], frontier = [schedule.answer]
        while let id = frontier.popLast() {
            for source in sources[id] ?? [] where reaches.insert(source).inserted { frontier.append(source) }
        }
        for node in nodes where !reaches.contains(node.id) {
            throw fail("node '\(node.id)'", "its output never reaches the answering node '\(schedule.answer)'")
        }
    }
}
