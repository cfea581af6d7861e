import VigilCore

extension ConfigSection {
    /// A time in seconds, as a whole number or with one of PostgreSQL's units (`ms`, `s`,
    /// `min`, `h`, `d`), as Patroni reads `member_slots_ttl` ("30min"). Out of `range`, or
    /// unreadable, it is reported and read as absent.
    func seconds(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let child = node(key) else { return nil }
        guard let text = child.text?.trimmingCharacters(in: .whitespaces) else {
            typeError(key, child, expected: "a number of seconds, or a number with a unit (ms, s, min, h, d)")
            return nil
        }
        let digits = text.prefix { $0.isASCII && ($0.isNumber || $0 == "-" || $0 == "+") }
        let unit = text.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        let scale: [String: (multiply: Int, divide: Int)] = ["": (1, 1), "s": (1, 1), "ms": (1, 1000), "min": (60, 1),
                                                             "h": (3600, 1), "d": (86400, 1)]
        guard let number = Int(digits), let factor = scale[unit] else {
            typeError(key, child, expected: "a number of seconds, or a number with a unit (ms, s, min, h, d)")
            return nil
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: factor.multiply)
        // Rounded to the nearest second (the remainder is below 1000: no overflow here).
        let split = product.quotientAndRemainder(dividingBy: factor.divide)
        let value = overflow ? nil : split.quotient + (split.remainder * 2 >= factor.divide ? 1 : 0)
        guard let value, range.contains(value) else {
            rangeError(key, text, expected: "a time from \(range.lowerBound) to \(range.upperBound) seconds")
            return nil
        }
        return value
    }

    /// The `slots` setting: a mapping of slot names to nothing (a physical slot) or to their
    /// type, and a logical slot's database and plugin. A name PostgreSQL would refuse, or a
    /// logical slot without its database or plugin, is reported and left out.
    func permanentSlots(_ key: String) -> [PermanentSlot]? {
        guard let node = whole(key) else { return nil }
        guard let entries = node.entries else {
            typeError(key, node, expected: "a mapping of slot names to their type")
            return nil
        }
        var slots: [PermanentSlot] = []
        for entry in entries {
            let path = "\(key).\(entry.key)"
            guard PermanentSlot.isValidName(entry.key) else {
                reader.report(Diagnostic(.error, code: "bad-slot", path: childPath(path), location: entry.keyLocation,
                                         message: "\(entry.key) is not a replication slot name PostgreSQL accepts; the slot is not kept.",
                                         fix: "use up to 63 lower-case letters, digits and underscores."))
                continue
            }
            let attributes = Dictionary(entry.value.entries?.compactMap { e in e.value.text.map { (e.key, $0) } } ?? [],
                                        uniquingKeysWith: { a, _ in a })
            let database = attributes["database"], plugin = attributes["plugin"]
            if attributes["type"] == "logical" || (database != nil && plugin != nil && attributes["type"] != "physical") {
                guard let database, let plugin else {
                    reader.report(Diagnostic(.error, code: "bad-slot", path: childPath(path), location: entry.keyLocation,
                                             message: "the logical slot \(entry.key) names no database or no plugin; the slot is not kept.",
                                             fix: "give the slot both database and plugin, or make it type: physical."))
                    continue
                }
                slots.append(PermanentSlot(name: entry.key, kind: .logical(database: database, plugin: plugin)))
            } else {
                slots.append(PermanentSlot(name: entry.key))
            }
        }
        return slots
    }

    /// `ignore_slots`: a list of mappings of name, type, database and plugin.
    func slotMatchers(_ key: String) -> [SlotMatcher]? {
        guard let node = whole(key) else { return nil }
        guard case let .sequence(items) = node.value else {
            typeError(key, node, expected: "a list of slots (name, type, database, plugin)")
            return nil
        }
        return items.compactMap { item in
            guard let entries = item.entries else { return nil }
            let attributes = Dictionary(entries.compactMap { e in e.value.text.map { (e.key, $0) } }, uniquingKeysWith: { a, _ in a })
            return SlotMatcher(name: attributes["name"], type: attributes["type"], database: attributes["database"],
                               plugin: attributes["plugin"])
        }
    }
}
