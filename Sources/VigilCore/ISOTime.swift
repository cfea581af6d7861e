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

    /// The duration in whole nanoseconds, saturated at Int64's bounds (about 292 years) rather
    /// than trapping (for clocks and timeouts counted in nanoseconds).
    public var inNanoseconds: Int64 {
        let (scaled, overflow) = components.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return components.seconds < 0 ? .min : .max }
        let (sum, carried) = scaled.addingReportingOverflow(components.attoseconds / 1_000_000_000)
        return carried ? (scaled < 0 ? .min : .max) : sum
    }
}

extension ISOTime {
    /// Python's `datetime.isoformat()` in UTC, as Patroni writes history timestamps:
    /// "2026-11-27T15:42:10.069+00:00", not "…Z".
    public static func pythonUTC(_ seconds: Double) -> String {
        // Whole milliseconds, UTC, from the calendar arithmetic alone (no formatter to build).
        let millis = Int64((seconds * 1000).rounded(.down))
        let (days, msOfDay) = millis.quotientAndRemainder(dividingBy: 86_400_000)
        let (day, ms) = msOfDay < 0 ? (days - 1, msOfDay + 86_400_000) : (days, msOfDay)
        let (y, m, d) = civil(fromDays: day)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let fraction = String(ms % 1000 + 1000).dropFirst()
        return "\(y)-\(two(m))-\(two(d))T\(two(ms / 3_600_000)):\(two(ms / 60_000 % 60)):\(two(ms / 1000 % 60)).\(fraction)+00:00"
    }

    /// The proleptic Gregorian date of a count of days since 1970-01-01 (H. Hinnant's algorithm).
    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
