/// A set of member names compared without case (PostgreSQL compares standby names so, and
/// Patroni's CaseInsensitiveSet does), keeping each name as first given.
struct NameSet: Equatable, Sendable, Sequence {
    private var byKey: [String: String] = [:]

    init() {}
    init<S: Sequence>(_ names: S) where S.Element == String { for n in names { insert(n) } }

    var count: Int { byKey.count }
    var isEmpty: Bool { byKey.isEmpty }
    /// The names, sorted (what is written anywhere is sorted, as Patroni writes it).
    var sorted: [String] { byKey.values.sorted() }

    func contains(_ name: String) -> Bool { byKey[name.lowercased()] != nil }
    mutating func insert(_ name: String) { if byKey[name.lowercased()] == nil { byKey[name.lowercased()] = name } }
    mutating func remove(_ name: String) { byKey[name.lowercased()] = nil }

    func union(_ other: NameSet) -> NameSet { var s = self; for n in other { s.insert(n) }; return s }
    func subtracting(_ other: NameSet) -> NameSet { NameSet(filter { !other.contains($0) }) }
    func intersection(_ other: NameSet) -> NameSet { NameSet(filter { other.contains($0) }) }
    func isSubset(of other: NameSet) -> Bool { allSatisfy { other.contains($0) } }
    /// A proper subset (Python's `<`).
    func isStrictSubset(of other: NameSet) -> Bool { isSubset(of: other) && count < other.count }

    static func == (a: NameSet, b: NameSet) -> Bool { Set(a.byKey.keys) == Set(b.byKey.keys) }
    func makeIterator() -> IndexingIterator<[String]> { sorted.makeIterator() }
}
