import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import VigilConfig
import VigilCore
import VigilSystem

/// `vigilctl query`: runs SQL on a member chosen by role or name, as patronictl's `query`
/// does, and prints the rows (tab-separated with a header by default).
public struct QueryCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "query", abstract: "Run SQL on a member (the leader by default) and print the rows.")
    // The global options, long forms only: -c and -d mean --command and --dbname here, as in patronictl.
    @Option(name: .customLong("config-file"), help: "The configuration file (the agents' patroni.yml).") var configFile: String?
    @Option(name: [.customLong("dcs-url"), .customLong("dcs")], help: "etcd3://HOST:PORT/NAMESPACE.") var dcsURL: String?
    @Flag(name: .customLong("insecure")) var insecure = false

    @Argument var clusterName: String?
    @Option(name: [.customShort("c"), .customLong("command")], help: "The SQL to run.") var command: String?
    @Option(name: [.customShort("f"), .customLong("file")], help: "Run the SQL in this file ('-' for standard input).") var file: String?
    @Option(name: [.customShort("r"), .customLong("role")], help: "leader, primary, replica or any.") var role = "any"
    @Option(name: [.customShort("m"), .customLong("member")], help: "A member by name (instead of --role).") var member: String?
    @Option(name: [.customShort("U"), .customLong("username")], help: "Database user (default: the superuser of the config file).")
    var username: String?
    @Flag(name: .customLong("password"), help: "Ask for the password.") var askPassword = false
    @Option(name: [.customShort("d"), .customLong("dbname")], help: "Database (default: the one in the member's conn_url).")
    var dbname: String?
    @Option(name: .customLong("delimiter"), help: "Between columns in tsv output.") var delimiter = "\t"
    @Option(name: .customLong("format"), help: "tsv or json.") var format = "tsv"
    public init() {}

    public func validate() throws {
        guard (command == nil) != (file == nil) else { throw ValidationError("give the SQL with either -c/--command or -f/--file") }
        guard ["tsv", "json"].contains(format) else { throw ValidationError("--format must be tsv or json") }
        guard ["leader", "primary", "master", "replica", "standby", "any"].contains(role) else {
            throw ValidationError("--role must be leader, primary, replica or any")
        }
    }

    public func run() async throws {
        let sql = try readSQL()
        let context = try userFacing { try CtlContext.load(configFile: configFile, dcsURL: dcsURL, cluster: clusterName, insecure: insecure) }
        let cluster = try await userFacing { try await context.readCluster() }
        let (chosen, address) = try cluster.suitableMember(role: role, name: member)
        let url = chosen.record.connURL ?? ""
        let superuser = context.configuration.postgresql.authentication.superuser
        let user = username ?? superuser?.username ?? ProcessInfo.processInfo.environment["PGUSER"] ?? "postgres"
        var password: String?
        if askPassword {
            // getpass reads the terminal; without one (a pipe, cron) it gives nothing.
            guard let typed = getpass("Password: ") else {
                throw ValidationError("--password needs a terminal to ask on; set PGPASSWORD instead")
            }
            password = String(cString: typed)
        } else if user == superuser?.username {
            password = superuser?.password?.value
        }
        password = password ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        let database = dbname ?? URL(string: url).map { $0.path.trimmingCharacters(in: CharacterSet(charactersIn: "/")) }
            .flatMap { $0.isEmpty ? nil : $0 } ?? "postgres"
        let logger = Logger(label: "vigilctl.query")
        let endpoint = PostgresEndpoint(host: address.host, port: address.port, username: user, password: password,
                                        database: database)
        let connection: PostgresConnection
        do {
            connection = try await endpoint.connect(connectTimeout: .seconds(5), logger: logger)
        } catch {
            FileHandle.standardError.write(Data("Error: cannot connect to \(chosen.name) at \(address.host):\(address.port) as \(user): \(Self.describe(error))\n".utf8))
            throw ExitCode(1)
        }
        do {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            var names: [String] = []
            var table: [[String?]] = []
            for try await row in rows {
                if names.isEmpty { names = row.map(\.columnName) }
                table.append(row.map(QueryValue.text))
            }
            try? await connection.close()
            // A statement without a result (DDL, SET) prints nothing.
            if !names.isEmpty { print(render(names, table)) }
        } catch {
            try? await connection.close()
            FileHandle.standardError.write(Data("Error: \(chosen.name): \(Self.describe(error))\n".utf8))
            throw ExitCode(1)
        }
    }

    func readSQL() throws -> String {
        if let command { return command }
        guard let file else { return "" }
        if file == "-" { return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ValidationError("cannot read the SQL file \(file)")
        }
        return text
    }

    /// NULL prints as None, as patronictl (Python) prints it.
    func render(_ names: [String], _ rows: [[String?]]) -> String {
        if format == "json" {
            let objects = rows.map { row in
                JSONValue.object(zip(names, row).map { ($0, $1.map(JSONValue.string) ?? .null) })
            }
            return JSONValue.array(objects).compactText
        }
        let lines = (names.isEmpty ? [] : [names]) + rows.map { $0.map { $0 ?? "None" } }
        return lines.map { $0.joined(separator: delimiter) }.joined(separator: "\n")
    }

    /// PostgreSQL's words as psql prints them (with the SQLSTATE), and what to do about a
    /// missing password.
    static func describe(_ error: any Error) -> String {
        if let psql = error as? PSQLError, psql.code == .authMechanismRequiresPassword {
            return "the server asks for a password: give --password, or set PGPASSWORD"
        }
        return PostgresErrorText.describe(error, sqlState: true)
    }
}

/// A result cell as text. PostgresNIO receives every column in binary form, so the common
/// types are turned back into PostgreSQL's own text; anything else is shown as hex.
enum QueryValue {
    /// Types whose binary form is their text.
    static let textual: Set<PostgresDataType> = [.text, .varchar, .bpchar, .name, .char, .json, .xml, .unknown]

    /// nil only for NULL: a value no rule below reads is shown as hex, never as something it is not.
    static func text(_ cell: PostgresCell) -> String? {
        guard let bytes = cell.bytes else { return nil }
        let text = textual.contains(cell.dataType) ? (try? cell.decode(String.self)) : typed(cell, bytes)
        return text ?? "\\x" + bytes.readableBytesView.map { String(format: "%02x", $0) }.joined()
    }

    private static func typed(_ cell: PostgresCell, _ value: ByteBuffer) -> String? {
        var bytes = value
        switch cell.dataType {
        case .bool: return (try? cell.decode(Bool.self)).map { $0 ? "True" : "False" }
        case .int2, .int4, .int8: return (try? cell.decode(Int64.self)).map(String.init)
        case .oid, .xid, .cid:
            return bytes.readInteger(as: UInt32.self).map(String.init)
        case .float4, .float8: return (try? cell.decode(Double.self)).map { "\($0)" }
        case .numeric:
            // The sign word after ndigits and weight marks NaN and the infinities (PostgreSQL 14+).
            switch value.getInteger(at: value.readerIndex + 4, as: UInt16.self) {
            case 0xC000: return "NaN"
            case 0xD000: return "Infinity"
            case 0xF000: return "-Infinity"
            default: return PostgresData(type: .numeric, value: value).numeric?.string  // keeps the scale: 2.50
            }
        case .uuid: return (try? cell.decode(UUID.self)).map { $0.uuidString.lowercased() }
        case .pgLSN:
            return bytes.readInteger(as: UInt64.self).map { String(format: "%X/%X", $0 >> 32, $0 & 0xFFFF_FFFF) }
        case .jsonb:
            // A version byte, then the JSON text.
            bytes.moveReaderIndex(forwardBy: 1)
            return bytes.readString(length: bytes.readableBytes)
        case .timestamp, .timestamptz:
            // Microseconds since 2000-01-01, printed exactly (in UTC) as Python prints a datetime.
            guard let micros = bytes.readInteger(as: Int64.self) else { return nil }
            if micros == .max || micros == .min { return micros == .max ? "infinity" : "-infinity" }
            let (seconds, fraction) = micros.quotientAndRemainder(dividingBy: 1_000_000)
            let adjusted = fraction < 0 ? (seconds - 1, fraction + 1_000_000) : (seconds, fraction)
            let text = civil(secondsSince2000: adjusted.0) + (adjusted.1 == 0 ? "" : String(format: ".%06d", adjusted.1))
            return text + (cell.dataType == .timestamptz ? "+00:00" : "")
        case .date:
            guard let days = bytes.readInteger(as: Int32.self) else { return nil }
            if days == .max || days == .min { return days == .max ? "infinity" : "-infinity" }
            return String(civil(secondsSince2000: Int64(days) * 86_400).prefix(10))
        default:
            return nil
        }
    }

    /// `YYYY-MM-DD HH:MM:SS` in UTC for a count of seconds since 2000-01-01 00:00:00.
    static func civil(secondsSince2000: Int64) -> String {
        let (days, rest) = secondsSince2000.quotientAndRemainder(dividingBy: 86_400)
        let (dayCount, secondOfDay) = rest < 0 ? (days - 1, rest + 86_400) : (days, rest)
        // 2000-01-01 is day 10957 after 1970-01-01.
        let (year, month, day) = ISOTime.civil(fromDays: dayCount + 10957)
        return String(format: "%04lld-%02lld-%02lld %02lld:%02lld:%02lld", year, month, day,
                      secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
    }
}
