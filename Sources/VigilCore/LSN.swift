/// A position in PostgreSQL's write-ahead log: bytes from 0/0. PostgreSQL prints it as two
/// hex halves (`0/3000060`); Patroni's keys and REST answers carry it as a plain integer.
public struct LSN: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) {
        self.value = value
    }

    /// Parses PostgreSQL's `X/Y` form.
    public init?(_ text: String) {
        let halves = text.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2, let high = UInt64(halves[0], radix: 16), let low = UInt64(halves[1], radix: 16),
              high <= UInt32.max, low <= UInt32.max else { return nil }
        value = high << 32 | low
    }

    public static let zero = LSN(0)

    public var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (lhs: LSN, rhs: LSN) -> Bool { lhs.value < rhs.value }
}
