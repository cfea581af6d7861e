import Testing
@testable import VigilAPI
import VigilCore

/// Who may call the protected endpoints (spec §1.6): the IP allowlist first, then Basic
/// authentication compared to the exact header Patroni expects.
@Suite struct AccessControlTests {
    struct Refusal: Equatable {
        var status: Int
        var message: String
        var challenge: Bool
    }

    static let noAuthHeader = Refusal(status: 401, message: "no auth header received", challenge: true)
    static let notAuthenticated = Refusal(status: 401, message: "not authenticated", challenge: true)
    static let denied = Refusal(status: 403, message: "Access is denied", challenge: false)

    /// The example from RFC 7617 §2, so the expected header does not come from the code under test.
    static let rfcAuthorization = "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    static let rfcUser = AccessControl(username: "Aladdin", password: "open sesame")

    func refusal(_ access: AccessControl, authorization: String? = nil, client: String? = "10.0.0.5",
                 members: [Member] = []) -> Refusal? {
        access.check(authorization: authorization, client: client, members: members)
            .map { Refusal(status: $0.status, message: $0.message, challenge: $0.challenge) }
    }

    // MARK: - Authentication

    /// Entries that are no address at all (empty, a bare slash, a prefix with nothing before it)
    /// match nothing: the allowlist still restricts, and nothing traps.
    @Test func emptyAndMalformedAllowlistEntriesMatchNothing() {
        let access = AccessControl(username: nil, password: nil, allowlist: ["", "/", "/24", "10.0.0.0/", "10.0.0.0/99"])
        #expect(refusal(access, client: "10.0.0.5") == Self.denied)
        #expect(AddressMatcher("") == nil && AddressMatcher("/8") == nil)
        #expect(AddressMatcher("10.0.0.0/8")?.matches("10.1.2.3") == true)
    }

    /// Unlike Patroni, nothing configured is not open to the network: this host and the
    /// cluster's members (REST and PostgreSQL hosts) only.
    @Test func withNothingConfiguredOnlyThisHostAndTheMembersAreLetIn() {
        let members = [
            Member(name: "n1", record: MemberRecord(connURL: "postgres://10.0.0.4:5432/postgres", apiURL: "http://10.0.0.4:8008/patroni")),
            Member(name: "n2", record: MemberRecord(connURL: "postgres://10.0.0.6:5432/postgres")),
        ]
        let refused = Refusal(status: 403, message: AccessControl.membersOnlyRefusal, challenge: false)
        #expect(refusal(.unconfigured, client: "10.0.0.5") == refused)
        #expect(refusal(.unconfigured, client: "10.0.0.5", members: members) == refused)
        #expect(refusal(.unconfigured, client: nil) == refused)
        for client in ["127.0.0.1", "127.0.3.7", "::1", "::ffff:127.0.0.1"] {
            #expect(refusal(.unconfigured, client: client) == nil, "\(client)")
        }
        #expect(refusal(.unconfigured, client: "10.0.0.4", members: members) == nil)
        #expect(refusal(.unconfigured, client: "10.0.0.6", members: members) == nil, "a member's PostgreSQL host")
        #expect(refusal(.unconfigured, authorization: "Basic d3Jvbmc6d3Jvbmc=", client: "127.0.0.1") == nil,
                "a header nobody asked for is ignored")
        #expect(refusal(AccessControl(username: "Aladdin", password: "open sesame"), authorization: Self.rfcAuthorization,
                        client: "192.0.2.1") == nil, "with a password, any address that has it")
    }

    @Test func theExactBasicHeaderIsAccepted() {
        #expect(refusal(Self.rfcUser, authorization: Self.rfcAuthorization) == nil)
    }

    @Test func aMissingHeaderIsA401WithAChallenge() {
        #expect(refusal(Self.rfcUser) == Self.noAuthHeader)
    }

    @Test(arguments: [
        "Basic QWxhZGRpbjpjbG9zZSBzZXNhbWU=",  // Aladdin:close sesame
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZR==",  // the right credentials in non-canonical base64: the text is compared
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ",    // the right one, cut short
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==x", // the right one, with more after it
        "basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",  // Patroni compares the whole header, scheme included
        "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "",  // present but empty: Patroni tests for None, so this is "not authenticated", not "no header"
    ])
    func anyOtherHeaderIsA401WithAChallenge(authorization: String) {
        #expect(refusal(Self.rfcUser, authorization: authorization) == Self.notAuthenticated)
    }

    // MARK: - Allowlist

    @Test(arguments: [
        ("10.0.0.5", true),
        ("10.0.0.6", false),
        ("192.168.1.77", true),   // inside 192.168.1.0/24
        ("192.168.2.1", false),
        ("172.16.9.1", true),     // inside 172.16.0.0/12, a prefix that ends mid-octet
        ("172.32.0.1", false),
        ("fd00::1", true),        // inside fd00::/8
        ("fe80::1", false),
        ("::1", true),
        ("not an address", false),
    ] as [(String, Bool)])
    func theAllowlistTakesAddressesAndRanges(_ c: (String, Bool)) {
        let access = AccessControl(username: nil, password: nil,
                                   allowlist: ["10.0.0.5", "192.168.1.0/24", "172.16.0.0/12", "fd00::/8", "::1"])
        let expected: Refusal? = c.1 ? nil : Self.denied
        #expect(refusal(access, client: c.0) == expected, "\(c.0)")
    }

    @Test func anIPv4RangeDoesNotAdmitIPv6Clients() {
        // As with Python's ipaddress, an address of one family is never inside a network of the
        // other, an IPv4-mapped IPv6 address included.
        let access = AccessControl(username: nil, password: nil, allowlist: ["0.0.0.0/0"])
        #expect(refusal(access, client: "203.0.113.9") == nil, "a /0 admits every IPv4 client")
        #expect(refusal(access, client: "2001:db8::1") == Self.denied)
        #expect(refusal(access, client: "::ffff:203.0.113.9") == Self.denied)
    }

    @Test func aClientWithoutAnAddressIsRefusedWhenThereIsAnAllowlist() {
        let access = AccessControl(username: nil, password: nil, allowlist: ["10.0.0.0/8"])
        #expect(refusal(access, client: nil) == Self.denied)
    }

    @Test func theAllowlistIsCheckedBeforeTheCredentials() {
        let access = AccessControl(username: "Aladdin", password: "open sesame", allowlist: ["10.0.0.0/8"])
        // The right credentials from the wrong address: 403, and no challenge that would invite a retry.
        #expect(refusal(access, authorization: Self.rfcAuthorization, client: "192.0.2.1") == Self.denied)
        // The right address still needs the credentials.
        #expect(refusal(access, client: "10.1.2.3") == Self.noAuthHeader)
        #expect(refusal(access, authorization: Self.rfcAuthorization, client: "10.1.2.3") == nil)
    }

    @Test func includeMembersAdmitsTheMembersRESTHosts() {
        let members = [
            Member(name: "n1", record: MemberRecord(apiURL: "http://10.0.0.4:8008/patroni")),
            Member(name: "n2", record: MemberRecord(apiURL: "https://10.0.0.6:8008/patroni")),
            Member(name: "n3", record: MemberRecord()),  // no api_url: nothing to admit
        ]
        let access = AccessControl(username: nil, password: nil, allowlist: ["192.0.2.10"], includeMembers: true)
        #expect(refusal(access, client: "10.0.0.4", members: members) == nil)
        #expect(refusal(access, client: "10.0.0.6", members: members) == nil)
        #expect(refusal(access, client: "192.0.2.10", members: members) == nil, "the allowlist still counts")
        #expect(refusal(access, client: "10.0.0.5", members: members) == Self.denied)
    }

    @Test func includeMembersAloneIsStillAnAllowlist() {
        // Patroni checks when either setting is on: with no members known, nobody is admitted.
        let access = AccessControl(username: nil, password: nil, includeMembers: true)
        #expect(refusal(access, client: "10.0.0.4") == Self.denied)
        let member = Member(name: "n1", record: MemberRecord(apiURL: "http://10.0.0.4:8008/patroni"))
        #expect(refusal(access, client: "10.0.0.4", members: [member]) == nil)
    }

    /// Patroni resolves hostnames in the allowlist (spec §1.6): `localhost` admits the loopback
    /// address it resolves to and nobody else; a name that does not resolve admits nobody (an
    /// allowlist never falls open).
    @Test func hostnamesInTheAllowlistAreResolvedAndNeverOpenTheDoor() {
        let access = AccessControl(username: nil, password: nil, allowlist: ["localhost"])
        #expect(refusal(access, client: "192.0.2.1") == Self.denied)
        #expect(refusal(access, client: "127.0.0.1") == nil)
        let unknown = AccessControl(username: nil, password: nil, allowlist: ["no-such-host.invalid"])
        #expect(refusal(unknown, client: "127.0.0.1") == Self.denied)
    }
}
