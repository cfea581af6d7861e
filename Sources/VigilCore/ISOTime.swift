import Foundation

/// The timestamps operators write for scheduled switchovers and restarts: ISO 8601 with an
/// offset (`2030-01-01T10:00:00+02:00`, fractions allowed, seconds optional as patronictl
/// users type them). One parser for the engine, the REST API and vigilctl.
public enum ISOTime {
    public enum Parsed: Equatable, Sendable {
        /// Seconds since 1970.
        case time(Double)
        /// A well-formed local time without an offset.
        case missingTimeZone
        case unparsable
    }

    public static func read(_ text: String) -> Parsed {
        var text = text.trimmingCharacters(in: .whitespaces)
        if let range = text.range(of: #"[T ]\d{2}:\d{2}(?=[+-]\d{2}:?\d{2}$|Z$)"#, options: .regularExpression) {
            text.insert(contentsOf: ":00", at: range.upperBound)
        }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return .time(date.timeIntervalSince1970) }
        }
        if text.range(of: #"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"#, options: .regularExpression) != nil {
            return .missingTimeZone
        }
        return .unparsable
    }

    /// Seconds since 1970, or nil unless the text is a time with an offset.
    public static func parse(_ text: String) -> Double? {
        if case let .time(seconds) = read(text) { return seconds }
        return nil
    }
}

extension Duration {
    /// The duration as fractional seconds (for reports and metrics).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension ISOTime {
    /// Python's `datetime.isoformat()` in UTC, as Patroni writes history timestamps:
    /// "2026-11-27T15:42:10.069+00:00", not "…Z".
    public static func pythonUTC(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let stamp = formatter.string(from: Date(timeIntervalSince1970: seconds))
        return stamp.hasSuffix("Z") ? String(stamp.dropLast()) + "+00:00" : stamp
    }
}
