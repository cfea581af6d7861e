import Foundation
import HTTPTypes
import NIOCore
import VigilConfig
import VigilCore

/// Who may call the endpoints that act on the cluster (spec §1.6): the IP allowlist, then
/// Basic authentication. GET, HEAD and OPTIONS are never protected.
///
/// With neither a password nor an allowlist (the guide's setup), Patroni lets anyone on the
/// network switch over, restart or rewrite the configuration. Vigil then admits only this
/// host and the cluster's members (their REST and PostgreSQL hosts), where vigilctl,
/// patronictl and the agents themselves run; `check-config` says how to open it further.
public struct AccessControl: Sendable {
    /// `Basic base64(user:password)`, the exact header expected; nil: no authentication configured.
    let expectedAuthorization: [UInt8]?
    let allowlist: [AddressMatcher]
    /// Whether an allowlist was configured: it then admits only what it names, even when none
    /// of its entries could be resolved (closed, never open).
    let restricted: Bool
    /// `allowlist_include_members`: every member's REST host is allowed too.
    let includeMembers: Bool
    /// Nothing configured: only this host and the members (see above).
    let membersOnly: Bool

    public init(username: String?, password: String?, allowlist: [String] = [], includeMembers: Bool = false) {
        self.includeMembers = includeMembers
        if let username, let password {
            expectedAuthorization = Array(("Basic " + Data("\(username):\(password)".utf8).base64EncodedString()).utf8)
        } else {
            expectedAuthorization = nil
        }
        // Hostnames are resolved once, as Patroni resolves them (spec §1.6).
        self.allowlist = allowlist.flatMap(AddressMatcher.resolving)
        restricted = !allowlist.isEmpty
        membersOnly = expectedAuthorization == nil && allowlist.isEmpty && !includeMembers
    }

    public init(_ config: RestAPIConfig) {
        self.init(username: config.authentication?.username, password: config.authentication?.password?.value,
                  allowlist: config.allowlist, includeMembers: config.allowlistIncludeMembers)
    }

    /// Nothing configured: this host and the members only.
    public static let unconfigured = AccessControl(username: nil, password: nil)

    /// The loopback networks, IPv4-mapped form included (a dual-stack listener reports it).
    static let loopback = ["127.0.0.0/8", "::1", "::ffff:127.0.0.0/104"].compactMap(AddressMatcher.init)

    static let membersOnlyRefusal = "Access is denied: with no restapi.authentication, only this host and the cluster's members may do this"

    /// nil when allowed; otherwise the refusal to send.
    func check(authorization: String?, client: String?, members: [Member]) -> (status: Int, message: String, challenge: Bool)? {
        if membersOnly {
            guard let client, Self.loopback.contains(where: { $0.matches(client) })
                    || Self.hosts(of: members).contains(where: { $0.matches(client) }) else {
                return (403, Self.membersOnlyRefusal, false)
            }
            return nil
        }
        if restricted || includeMembers {
            let memberHosts = includeMembers
                ? members.compactMap { $0.record.apiURL.flatMap { URL(string: $0)?.host } }.flatMap(AddressMatcher.resolving) : []
            guard let client, (allowlist + memberHosts).contains(where: { $0.matches(client) }) else {
                return (403, "Access is denied", false)
            }
        }
        guard let expected = expectedAuthorization else { return nil }
        guard let authorization else { return (401, "no auth header received", true) }
        guard Self.constantTimeEqual(Array(authorization.utf8), expected) else { return (401, "not authenticated", true) }
        return nil
    }

    /// Where the members run: the hosts of their REST API and PostgreSQL addresses.
    static func hosts(of members: [Member]) -> [AddressMatcher] {
        members.flatMap { [$0.record.apiURL, $0.record.connURL] }.compactMap { $0.flatMap { URL(string: $0)?.host } }
            .flatMap(AddressMatcher.resolving)
    }

    /// Compares without stopping at the first difference, so the time taken says nothing about the password.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}

/// One allowlist entry: an IPv4/IPv6 address or a CIDR range.
struct AddressMatcher: Sendable {
    let network: [UInt8]
    let prefix: Int

    init?(_ text: String) {
        // An empty entry (`allowlist: [""]`) has no address part: not an address, never a trap.
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let address = parts.first, let bytes = Self.bytes(address) else { return nil }
        network = bytes
        if parts.count == 2 {
            guard let p = Int(parts[1]), p >= 0, p <= bytes.count * 8 else { return nil }
            prefix = p
        } else {
            prefix = bytes.count * 8
        }
    }

    /// An address or CIDR range as written, or every address a hostname resolves to (none
    /// when it does not resolve).
    static func resolving(_ text: String) -> [AddressMatcher] {
        if let matcher = AddressMatcher(text) { return [matcher] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(text, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var matchers: [AddressMatcher] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let entry = next {
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0,
               let matcher = AddressMatcher(String(cString: host)) {
                matchers.append(matcher)
            }
            next = entry.pointee.ai_next
        }
        return matchers
    }

    func matches(_ address: String) -> Bool {
        guard let bytes = Self.bytes(address), bytes.count == network.count else { return false }
        var remaining = prefix
        for i in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if bytes[i] & mask != network[i] & mask { return false }
            remaining -= bits
        }
        return true
    }

    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
