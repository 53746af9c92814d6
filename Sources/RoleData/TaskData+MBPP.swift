// Provenance: field names of MBPP's JSONL release (task_id, text, code, test_list, test_setup_code,
// challenge_test_list) and of the MBPP+ (EvalPlus) rows as published on Hugging Face (task_id,
// prompt, code, test_imports, test_list, test: a script checking the function on the extra inputs).
// The prompt shown is MBPP's standard one: the task, then "Your code should pass these tests:"
// and the listed asserts.

extension TaskData {
    /// One MBPP / MBPP+ row: the question is the task and its listed asserts; the test run against
    /// an answer is the imports or setup code, then the full test script when the row has one
    /// (MBPP+), else the asserts, at module level (no `check` function: a failing assert fails).
    static func mbppRow(_ object: [String: JSONValue], file: String, line: Int) throws(RoleDataError) -> DataRow {
        func problem(_ p: RowProblem) -> RoleDataError { .malformedRow(file: file, line: line, problem: p) }
        func text(_ key: String) throws(RoleDataError) -> String? {
            guard let value = object[key] else { return nil }
            switch value {
            case .string(let s): return s
            case .null: return nil
            default: throw problem(.wrongType(field: key, expected: "a string", found: value.typeName))
            }
        }
        func strings(_ key: String) throws(RoleDataError) -> [String]? {
            guard let value = object[key] else { return nil }
            guard case .array(let items) = value else { throw problem(.wrongType(field: key, expected: "an array of strings", found: value.typeName)) }
            return try items.map { item throws(RoleDataError) -> String in
                guard case .string(let s) = item else { throw problem(.wrongType(field: key, expected: "an array of strings", found: "an array holding \(item.typeName)")) }
                return s
            }
        }
        let id: String
        switch object["task_id"] {
        case .string(let s)?: id = s
        case .number(let n)? where n == n.rounded(): id = String(Int(n))
        case let other?: throw problem(.wrongType(field: "task_id", expected: "a string or an integer", found: other.typeName))
        case nil: throw problem(.missingField("task_id"))
        }
        var task = try text("prompt")
        if task == nil { task = try text("text") }
        guard let task, !task.allSatisfy(\.isWhitespace) else { throw problem(.missingField("prompt")) }
        guard let asserts = try strings("test_list"), !asserts.isEmpty else { throw problem(.missingField("test_list")) }
        let script = try text("test").flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 }
        let imports = try strings("test_imports") ?? [], setupCode = try text("test_setup_code")
        let setup = imports + [setupCode ?? ""]
        let test = (setup.filter { !$0.isEmpty } + [script ?? asserts.joined(separator: "\n")]).joined(separator: "\n")
        let question = task.trimmingCharacters(in: .whitespacesAndNewlines) + "\nYour code should pass these tests:\n\n"
            + asserts.joined(separator: "\n")
        let entry = try text("entry_point") ?? Self.calledFunction(asserts[0]) ?? "solution"
        return DataRow(question: question, fields: ["final_answer": id, "task_id": id, "prompt": "", "test": test, "entry_point": entry])
    }

    /// The function an assert tests: the first called name that is not a builtin or a module
    /// helper (`assert set(similar_elements(a, b)) == …` → similar_elements).
    public static func calledFunction(_ assertion: String) -> String? {
        let wrappers: Set<String> = ["assert", "not", "set", "sorted", "list", "tuple", "str", "int", "float", "abs", "round", "len",
                                     "any", "all", "math", "isclose", "dict", "frozenset", "bool", "type", "isinstance", "max", "min", "sum"]
        var name = "", names: [(String, Character?)] = []
        for c in assertion + " " {
            if c.isLetter || c == "_" || (c.isNumber && !name.isEmpty) { name.append(c); continue }
            if !name.isEmpty { names.append((name, c)); name = "" }
        }
        return names.first { $0.1 == "(" && !wrappers.contains($0.0) }?.0
    }
}
