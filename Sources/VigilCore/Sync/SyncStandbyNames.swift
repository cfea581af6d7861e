/// PostgreSQL's `synchronous_standby_names`, read and written as Patroni does (sync.py): the
/// value Vigil writes is byte for byte Patroni's, so a mixed cluster and an operator's eye see
/// the same thing.
public enum SyncStandbyNames {
    /// A parsed value.
    public struct Parsed: Sendable, Equatable {
        public enum Kind: String, Sendable, Equatable {
            case off, priority, quorum
        }

        public var kind: Kind
        /// `*` is listed: any standby counts.
        public var hasStar: Bool
        /// How many standbys a commit waits for.
        public var num: Int
        /// The names listed, lowercased (PostgreSQL compares them without case).
        public var members: Set<String>
        /// The names as written, in order, each once.
        public var listed: [String]

        public static let off = Parsed(kind: .off, hasStar: false, num: 0, members: [], listed: [])
    }

    /// Reads a value the way Patroni does; nil when it cannot be read (Patroni then treats it as off).
    public static func parse(_ value: String) -> Parsed? {
        let tokens = tokenize(value)
        guard let tokens else { return nil }
        if tokens.isEmpty { return .off }
        let kinds = tokens.map(\.kind)
        var kind = Parsed.Kind.priority
        var num = 1
        var list: ArraySlice<Token>
        if kinds.starts(with: [.any, .num, .open]), kinds.last == .close {
            kind = .quorum
            num = Int(tokens[1].text) ?? 0
            list = tokens[3..<(tokens.count - 1)]
        } else if kinds.starts(with: [.first, .num, .open]), kinds.last == .close {
            num = Int(tokens[1].text) ?? 0
            list = tokens[3..<(tokens.count - 1)]
        } else if kinds.starts(with: [.num, .open]), kinds.last == .close {
            num = Int(tokens[0].text) ?? 0
            list = tokens[2..<(tokens.count - 1)]
        } else {
            list = tokens[...]
        }
        var hasStar = false
        var members = Set<String>()
        var listed: [String] = []
        func add(_ name: String) {
            if members.insert(name.lowercased()).inserted { listed.append(name) }
        }
        for (i, token) in list.enumerated() {
            if i % 2 == 1 {
                guard i + 1 < list.count, token.kind == .comma else { return nil }
                continue
            }
            switch token.kind {
            case .ident, .first, .any, .quoted:
                add(token.text)
            case .star:
                add("*")
                hasStar = true
            default:
                return nil
            }
        }
        return Parsed(kind: kind, hasStar: hasStar, num: num, members: members, listed: listed)
    }

    /// The value Patroni writes for these standbys: one name alone; several as `N (a,b)` (no
    /// FIRST); quorum as `ANY N (a,b)`; `*` when none are named but `num` ≥ 1. Names sorted,
    /// quoted only when they must be. nil: the parameter is removed (no standby waited for).
    public static func render(_ names: [String], num: Int? = nil, quorum: Bool) -> String? {
        let hasStar = names.contains("*") || ((num ?? 0) >= 1 && names.isEmpty)
        let listed = hasStar ? ["*"] : names.sorted().map(quote)
        guard !listed.isEmpty else { return nil }
        let joined = listed.joined(separator: ",")
        if quorum || listed.count > 1 {
            return "\(quorum ? "ANY " : "")\(num ?? listed.count) (\(joined))"
        }
        return joined
    }

    /// A standby name as it must be written: bare when it is a plain identifier (and not a
    /// keyword of this syntax), double-quoted otherwise.
    public static func quote(_ name: String) -> String {
        let plain = name.first.map { $0.isASCII && ($0.isLetter || $0 == "_") } == true
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "$") }
            && !["first", "any"].contains(name.lowercased())
        return plain ? name : "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: Tokens

    struct Token: Equatable {
        enum Kind: Equatable { case first, any, ident, quoted, star, num, comma, open, close }
        var kind: Kind
        var text: String
    }

    /// Patroni's SYNC_REP_PARSER_RE; nil on a character it does not know (JUNK).
    static func tokenize(_ value: String) -> [Token]? {
        var tokens: [Token] = []
        let chars = Array(value)
        var i = 0
        func isIdentStart(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c == "_") }
        func isIdentChar(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "$") }
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace {
                i += 1
            } else if isIdentStart(c) {
                var j = i
                while j < chars.count, isIdentChar(chars[j]) { j += 1 }
                let word = String(chars[i..<j])
                // The regex tries FIRST and ANY before identifiers, on their letters alone.
                if word.count >= 5, word.prefix(5).lowercased() == "first" {
                    tokens.append(Token(kind: .first, text: String(word.prefix(5))))
                    i += 5
                } else if word.count >= 3, word.prefix(3).lowercased() == "any" {
                    tokens.append(Token(kind: .any, text: String(word.prefix(3))))
                    i += 3
                } else {
                    tokens.append(Token(kind: .ident, text: word))
                    i = j
                }
            } else if c == "\"" {
                var j = i + 1
                var text = ""
                var closed = false
                while j < chars.count {
                    if chars[j] == "\"" {
                        if j + 1 < chars.count, chars[j + 1] == "\"" {
                            text.append("\"")
                            j += 2
                            continue
                        }
                        closed = true
                        j += 1
                        break
                    }
                    text.append(chars[j])
                    j += 1
                }
                guard closed, !text.isEmpty else { return nil }
                tokens.append(Token(kind: .quoted, text: text))
                i = j
            } else if c == "*" {
                tokens.append(Token(kind: .star, text: "*"))
                i += 1
            } else if c.isASCII, c.isNumber {
                var j = i
                while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
                tokens.append(Token(kind: .num, text: String(chars[i..<j])))
                i = j
            } else if c == "," {
                tokens.append(Token(kind: .comma, text: ","))
                i += 1
            } else if c == "(" {
                tokens.append(Token(kind: .open, text: "("))
                i += 1
            } else if c == ")" {
                tokens.append(Token(kind: .close, text: ")"))
                i += 1
            } else {
                return nil
            }
        }
        return tokens
    }
}
