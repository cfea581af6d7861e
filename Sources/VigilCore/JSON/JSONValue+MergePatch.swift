extension JSONValue {
    /// RFC 7396 JSON merge patch, as Patroni applies `PATCH /config` and patronictl's
    /// edit-config: objects merge key by key, `null` removes a key, anything else replaces.
    /// `keepingEqualText`: as Patroni's `PATCH /config` (patch_config), a scalar whose Python
    /// `str()` equals the one in place changes nothing (`"30"` over `30` keeps the integer).
    public func merged(with patch: JSONValue, keepingEqualText: Bool = false) -> JSONValue {
        guard case let .object(changes) = patch else {
            if keepingEqualText, objectValue == nil, let mine = pythonText, mine == patch.pythonText { return self }
            return patch
        }
        var entries = objectValue ?? []
        for (key, value) in changes {
            let index = entries.firstIndex { $0.key == key }
            if value == .null {
                if let index { entries.remove(at: index) }
            } else if let index {
                entries[index].value = entries[index].value.merged(with: value, keepingEqualText: keepingEqualText)
            } else {
                entries.append((key, JSONValue.null.merged(with: value)))
            }
        }
        return .object(entries)
    }

    /// Python's `str()` of a scalar as json.loads gives it (nil for lists and objects).
    var pythonText: String? {
        switch self {
        case .null: "None"
        case let .bool(b): b ? "True" : "False"
        case let .int(i): String(i)
        case let .double(d): JSONValue.pythonRepr(d)
        case let .string(s): s
        case .array, .object: nil
        }
    }

    /// The patch that sets `path` (a.b.c) to `value` (`null` removes it).
    public static func patch(setting path: [String], to value: JSONValue) -> JSONValue {
        path.reversed().reduce(value) { inner, key in .object([(key, inner)]) }
    }
}
