import Foundation
import VigilCore

/// Seeded, repeatable hostile input: JSON with extreme numbers, deep nesting and odd text,
/// mutations of valid documents, and raw bytes. Every fuzz test takes its seed from
/// `FUZZ_SEED` (default 1) and its size from `FUZZ_ITERATIONS` (bounded for `make test`), and
/// names the seed and iteration of anything it finds, so a failure replays.
struct FuzzInput {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    static var seed: UInt64 { ProcessInfo.processInfo.environment["FUZZ_SEED"].flatMap { UInt64($0) } ?? 1 }

    /// How many inputs each test tries: `FUZZ_ITERATIONS`, else `standard`.
    static func iterations(_ standard: Int) -> Int {
        ProcessInfo.processInfo.environment["FUZZ_ITERATIONS"].flatMap { Int($0) } ?? standard
    }

    /// SplitMix64.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// The numbers that break arithmetic: the edges of Int64, around zero, around 2^31 and
    /// 2^32 (PostgreSQL's 32-bit IDs), and plain random ones.
    mutating func int64() -> Int64 {
        switch below(8) {
        case 0: return pick([.max, .min, .max - 1, .min + 1])
        case 1: return pick([0, -1, 1, 2])
        case 2: return pick([Int64(Int32.max), Int64(Int32.max) + 1, Int64(UInt32.max), Int64(UInt32.max) + 1])
        case 3: return Int64(bitPattern: next())
        default: return Int64(below(100_000)) - 1000
        }
    }

    /// Numbers as JSON text, including ones no Int64 holds.
    mutating func numberText() -> String {
        switch below(6) {
        case 0: return pick(["99999999999999999999", "-99999999999999999999", "1e400", "-1e400", "1e-400", "0.5", "-0.0"])
        case 1: return pick(["9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551616"])
        default: return String(int64())
        }
    }

    mutating func text() -> String {
        switch below(10) {
        case 0: return ""
        case 1: return String(repeating: "a", count: below(5000))
        case 2: return pick(["\u{0}", "\u{FFFF}", "é", "🙂", "\\", "\"", "\n", "../../etc/passwd", "%00", "%zz"])
        case 3: return numberText()
        case 4: return pick(["true", "false", "null", "on", "off", "maybe", "primary", "replica", "master", "quorum"])
        case 5: return pick(["2030-01-01T10:00:00+02:00", "2030-13-45T99:99:99Z", "9999999-01-01T00:00:00Z", "0/0", "FFFFFFFF/FFFFFFFF", "1/G"])
        case 6: return pick(["node1", "n1", "127.0.0.1:5432", "postgres://u:p@h:99999/db", "http://[::1]:8008/patroni", "h:-1"])
        default:
            let alphabet = Array("abcxyz019_-./:@ {}[]\",\\")
            return String((0..<below(20)).map { _ in alphabet[below(alphabet.count)] })
        }
    }

    /// A random JSON value, `depth` levels deep at most; keys drawn from `keys` half the time so
    /// that decoders meet their own fields with the wrong content.
    mutating func json(depth: Int = 4, keys: [String] = []) -> JSONValue {
        let leafOnly = depth <= 0
        switch below(leafOnly ? 6 : 9) {
        case 0: return .null
        case 1: return .bool(chance(50))
        case 2: return .int(int64())
        case 3: return .double(pick([.infinity, -.infinity, .nan, 1e300, -1e300, 0.1, 5e-324, Double(int64())]))
        case 4, 5: return .string(text())
        case 6, 7:
            var entries: [(key: String, value: JSONValue)] = []
            for _ in 0..<below(8) {
                let key = !keys.isEmpty && chance(60) ? pick(keys) : text()
                entries.append((key: key, value: json(depth: depth - 1, keys: keys)))
            }
            return .object(entries)
        default:
            return .array((0..<below(6)).map { _ in json(depth: depth - 1, keys: keys) })
        }
    }

    /// `text` with a few random edits: bytes replaced, cut, repeated or spliced in.
    mutating func mutate(_ text: String) -> String {
        var bytes = Array(text.utf8)
        for _ in 0..<(1 + below(4)) {
            guard !bytes.isEmpty else { bytes = Array(self.text().utf8); continue }
            let at = below(bytes.count)
            switch below(6) {
            case 0: bytes[at] = UInt8(truncatingIfNeeded: next())
            case 1: bytes.removeSubrange(at..<min(bytes.count, at + 1 + below(16)))
            case 2: bytes.insert(contentsOf: Array(numberText().utf8), at: at)
            case 3: bytes.insert(contentsOf: Array(self.text().utf8), at: at)
            case 4: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + below(64))], at: at)
            default: bytes = Array(bytes[..<at])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func bytes(upTo count: Int) -> [UInt8] {
        (0..<below(count)).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}
