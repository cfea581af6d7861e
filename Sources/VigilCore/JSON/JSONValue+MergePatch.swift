extension JSONValue {
    /// RFC 7396 JSON merge patch, as Patroni applies `PATCH /config` and patronictl's
    /// edit-config: objects merge key by key, `null` removes a key, anything else replaces.
    public func merged(with patch: JSONValue) -> JSONValue {
        guard case let .object(changes) = patch else { return patch }
        var entries = objectValue ?? []
        for (key, value) in changes {
            let index = entries.firstIndex { $0.key == key }
            if value == .null {
                if let index { entries.remove(at: index) }
            } else if let index {
                entries[index].value = entries[index].value.merged(with: value)
            } else {
                entries.append((key, JSONValue.null.merged(with: value)))
            }
        }
        return .object(entries)
    }

    /// The patch that sets `path` (a.b.c) to `value` (`null` removes it).
    public static func patch(setting path: [String], to value: JSONValue) -> JSONValue {
        path.reversed().reduce(value) { inner, key in .object([(key, inner)]) }
    }
}
