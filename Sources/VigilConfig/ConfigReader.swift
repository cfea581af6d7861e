import Foundation

/// Reads typed values out of a `ConfigNode` tree and keeps two records while doing so:
/// which keys were read (everything else is an unknown key, reported once at the end),
/// and which values had the wrong shape (each an error with its path and line).
///
/// The typed sections (`Configuration` and friends) are built only through this reader,
/// so the list of keys Vigil understands lives in exactly one place: the code that reads them.
final class ConfigReader {
    private(set) var diagnostics: [Diagnostic] = []
    /// Keys asked for, by the path of their parent mapping (for "did you mean").
    private var asked: [String: Set<String>] = [:]
    /// Paths whose whole subtree was taken as is (free-form maps such as `parameters`).
    private var takenWhole: Set<String> = []

    let root: ConfigNode

    init(root: ConfigNode) {
        self.root = root
    }

    var top: ConfigSection { ConfigSection(reader: self, path: "", node: root) }

    func noteAsked(_ key: String, in path: String) {
        asked[path, default: []].insert(key)
    }

    func noteTakenWhole(_ path: String) {
        takenWhole.insert(path)
    }

    func report(_ diagnostic: Diagnostic) {
        diagnostics.append(diagnostic)
    }

    /// Every mapping key that no typed section asked for: kept in the tree (so nothing is
    /// lost), reported as a warning with a suggestion when a known key is one typo away.
    func unknownKeys() -> [Diagnostic] {
        var found: [Diagnostic] = []
        func walk(_ node: ConfigNode, _ path: String) {
            guard !takenWhole.contains(path), let entries = node.entries else { return }
            let known = asked[path] ?? []
            for entry in entries {
                let childPath = path.isEmpty ? entry.key : "\(path).\(entry.key)"
                if known.contains(entry.key) {
                    walk(entry.value, childPath)
                    continue
                }
                var fix = "remove it, or check its spelling and indentation."
                if let suggestion = Self.closest(to: entry.key, in: known) {
                    fix = "did you mean \(path.isEmpty ? suggestion : "\(path).\(suggestion)")?"
                }
                found.append(Diagnostic(.warning, code: "unknown-key", path: childPath,
                                        location: entry.keyLocation,
                                        message: "unknown key; it is kept but Vigil does not use it.", fix: fix))
            }
        }
        // Only mappings that some section asked into are walked: a key under a known key
        // that was never read as a mapping is already reported as a type error.
        walk(root, "")
        return found
    }

    static func closest(to key: String, in candidates: Set<String>) -> String? {
        let scored = candidates.map { ($0, editDistance(key.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }) else { return nil }
        return best.1 <= max(1, key.count / 4) ? best.0 : nil
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1,
                                       previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

/// A mapping in the configuration, seen through the reader. Accessors return nil when the
/// key is absent or null, and report an error (and return nil) when it has the wrong shape.
struct ConfigSection {
    let reader: ConfigReader
    let path: String
    let node: ConfigNode?

    var exists: Bool { node.map { !$0.isNull } ?? false }
    var location: SourceLocation? { node?.location }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw node under `key`, marked as read (its own children still checked if it is a section).
    func node(_ key: String) -> ConfigNode? {
        reader.noteAsked(key, in: path)
        guard let child = node?[key], !child.isNull else { return nil }
        return child
    }

    func location(of key: String) -> SourceLocation? {
        node?.entry(key)?.keyLocation ?? node?.location
    }

    func section(_ key: String) -> ConfigSection {
        let child = node(key)
        if let child, child.entries == nil {
            typeError(key, child, expected: "a mapping of keys")
            return ConfigSection(reader: reader, path: childPath(key), node: nil)
        }
        return ConfigSection(reader: reader, path: childPath(key), node: child)
    }

    /// The node under `key` taken as is: its content is free-form (GUCs, tags, slots…).
    func whole(_ key: String) -> ConfigNode? {
        reader.noteTakenWhole(childPath(key))
        return node(key)
    }

    func string(_ key: String) -> String? {
        guard let child = node(key) else { return nil }
        guard let text = child.text else {
            typeError(key, child, expected: "a single value")
            return nil
        }
        return text
    }

    func int(_ key: String) -> Int? {
        guard let child = node(key) else { return nil }
        if let text = child.text, let value = ConfigScalar.int(text) { return value }
        if let text = child.text, ConfigScalar.isWholeNumber(text) {
            rangeError(key, text, expected: "a whole number from \(Int.min) to \(Int.max)")
        } else {
            typeError(key, child, expected: "a whole number")
        }
        return nil
    }

    /// A whole number within `range`; one outside it is reported (naming the range) and read
    /// as absent, so no value from a file, the store or a request can overflow what is
    /// computed from it.
    func int(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = int(key) else { return nil }
        guard range.contains(value) else {
            rangeError(key, String(value), expected: "a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    /// Whether `key` holds something (a wrong or out-of-range value included): a value read
    /// as absent although present keeps the last good one where there is one.
    func isSet(_ key: String) -> Bool {
        node?[key].map { !$0.isNull } ?? false
    }

    func bool(_ key: String) -> Bool? {
        guard let child = node(key) else { return nil }
        if let text = child.text, let value = ConfigScalar.bool(text) { return value }
        typeError(key, child, expected: "true or false")
        return nil
    }

    /// A list of values; a single value or a comma-separated string is accepted as Patroni
    /// accepts `hosts: a:2379,b:2379`.
    func strings(_ key: String) -> [String]? {
        guard let child = node(key) else { return nil }
        switch child.value {
        case let .scalar(text, _):
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case let .sequence(items):
            var out: [String] = []
            for (i, item) in items.enumerated() {
                guard let text = item.text else {
                    typeError("\(key)[\(i)]", item, expected: "a single value")
                    continue
                }
                out.append(text)
            }
            return out
        default:
            typeError(key, child, expected: "a list of values")
            return nil
        }
    }

    /// A mapping of names to scalar values (GUCs, tags): order kept, values as text, with
    /// YAML 1.1 flags normalised the way PostgreSQL spells them (on/off).
    func scalarMap(_ key: String) -> [(key: String, value: String, location: SourceLocation?)]? {
        guard let child = whole(key) else { return nil }
        guard let entries = child.entries else {
            typeError(key, child, expected: "a mapping of names to values")
            return nil
        }
        return entries.compactMap { entry in
            switch entry.value.value {
            case let .scalar(text, plain):
                let flag = plain ? ConfigScalar.bool(text) : nil
                return (entry.key, flag.map { $0 ? "on" : "off" } ?? text, entry.keyLocation)
            case .null:
                return (entry.key, "", entry.keyLocation)
            default:
                typeError("\(key).\(entry.key)", entry.value, expected: "a single value")
                return nil
            }
        }
    }

    /// The children of a mapping, each as a section (e.g. `bootstrap.users.<name>`).
    func namedSections(_ key: String) -> [(name: String, section: ConfigSection)] {
        let parent = section(key)
        guard let entries = parent.node?.entries else { return [] }
        return entries.map { entry in
            reader.noteAsked(entry.key, in: parent.path)
            return (entry.key, parent.section(entry.key))
        }
    }

    func rangeError(_ key: String, _ found: String, expected: String) {
        reader.report(Diagnostic(.error, code: "out-of-range", path: childPath(key),
                                 location: location(of: key),
                                 message: "expected \(expected), found \(found).",
                                 fix: "write \(expected) here."))
    }

    func typeError(_ key: String, _ found: ConfigNode, expected: String) {
        let isSecret = key.lowercased().contains("password")
        var what = found.kindName
        if let text = found.text { what = isSecret ? "a value (not shown)" : "'\(text)'" }
        reader.report(Diagnostic(.error, code: "wrong-type", path: childPath(key),
                                 location: location(of: key),
                                 message: "expected \(expected), found \(what).",
                                 fix: "write \(expected) here."))
    }
}

/// Scalar text read the way Patroni's YAML 1.1 loader reads it.
enum ConfigScalar {
    /// Digits with an optional sign (and `_` separators): a number, whatever its size.
    static func isWholeNumber(_ text: String) -> Bool {
        let digits = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
        let unsigned = digits.first == "-" || digits.first == "+" ? digits.dropFirst() : Substring(digits)
        return !unsigned.isEmpty && unsigned.allSatisfy(\.isASCII) && unsigned.allSatisfy(\.isNumber)
    }

    static func int(_ text: String) -> Int? {
        Int(text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: ""))
    }

    static func bool(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "on", "y": true
        case "false", "no", "off", "n": false
        default: nil
        }
    }
}
