/// SQL quoting for the statements that cannot take bind parameters (CREATE ROLE, CREATE
/// DATABASE, …).
public enum SQLText {
    public static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
    public static func identifier(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
