import Testing
import VigilCore

/// One rule for who can take over, and one reading of the failover tags (Patroni's).
@Suite struct CandidacyTests {
    @Test(arguments: [
        ("{}", false, 1),
        (#"{"nofailover": true}"#, true, 0),
        (#"{"nofailover": false}"#, false, 1),
        (#"{"nofailover": "true"}"#, true, 0),
        // Python's truthiness: a non-empty string is true, whatever it says.
        (#"{"nofailover": "false"}"#, true, 0),
        (#"{"nofailover": ""}"#, false, 1),
        (#"{"nofailover": 0}"#, false, 1),
        (#"{"failover_priority": 0}"#, true, 0),
        (#"{"failover_priority": "3"}"#, false, 3),
        (#"{"failover_priority": 0, "nofailover": false}"#, false, 0),
    ] as [(String, Bool, Int64)])
    func tagsAreReadAsPatroniReadsThem(_ c: (String, Bool, Int64)) throws {
        let tags = FailoverTags(try JSONValue.parse(Array(c.0.utf8)))
        #expect(tags.nofailover == c.1 && tags.priority == c.2, "\(c.0)")
    }

    @Test func absentTagsAllowPromotion() {
        #expect(FailoverTags(nil).allowsPromotion)
        #expect(!FailoverTags(["failover_priority": 0, "nofailover": false]).allowsPromotion, "priority 0 never leads")
    }

    @Test func refusalsSayWhy() {
        let replica = PeerStatus(name: "n2", reachable: true, inRecovery: true, walPosition: 5000)
        #expect(Candidacy.refusal(replica) == nil)
        #expect(Candidacy.refusal(.unreachable("n2")) == .unreachable)
        #expect(Candidacy.refusal(PeerStatus(name: "n2", reachable: true, nofailover: true)) == .notAllowed)
        #expect(Candidacy.refusal(PeerStatus(name: "n2", reachable: true, failoverPriority: 0)) == .notAllowed)
        #expect(Candidacy.refusal(replica, .init(named: "n3")) == .notNamed)
        let primary = PeerStatus(name: "n2", reachable: true, inRecovery: false, walPosition: 5000)
        #expect(Candidacy.refusal(primary) == nil, "eligibility alone does not ask for a replica")
        #expect(Candidacy.refusal(primary, .init(replicaOnly: true)) == .notAReplica)
        #expect(Candidacy.refusal(replica, .init(lag: (optime: 5000 + 1_048_576, maximum: 1_048_576))) == nil)
        #expect(Candidacy.refusal(replica, .init(lag: (optime: 5001 + 1_048_576, maximum: 1_048_576))) == .lagging(bytes: 1_048_577))
        // A position from outside that would overflow the subtraction counts as lagging, and does not trap.
        let wild = PeerStatus(name: "n2", reachable: true, walPosition: .min)
        #expect(Candidacy.refusal(wild, .init(lag: (optime: 5000, maximum: 1_048_576))) == .lagging(bytes: .max))
    }
}
