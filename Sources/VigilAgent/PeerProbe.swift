import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import VigilCore
import VigilSystem

/// How the HA loop asks its peers: over HTTP in the agent, from the simulated nodes in the
/// simulation.
public protocol PeerProbing: Sendable {
    /// Each member's `GET /patroni` as the race reads it, in parallel; silence is `.unreachable`.
    func statuses(of members: [Member]) async -> [PeerStatus]
    /// Whether the REST API at `apiURL` answers `GET /liveness` (another agent of the same name).
    func answersLiveness(_ apiURL: String) async -> Bool
}

/// Asks the other members for `GET /patroni` during a leader race or before a switchover:
/// in parallel, 2 s each (as Patroni does); a member that does not answer counts as unreachable.
public struct PeerProbe: PeerProbing {
    let client: HTTPClient
    /// Says why a peer counted as unreachable (a refused connection, a certificate that does
    /// not verify): a TLS mistake must not look like a dead peer.
    let logger: Logger
    let timeout: Duration = .seconds(2)

    public func statuses(of members: [Member]) async -> [PeerStatus] {
        await withTaskGroup(of: PeerStatus.self) { group in
            for member in members {
                group.addTask { await status(of: member) }
            }
            var all: [PeerStatus] = []
            for await status in group { all.append(status) }
            return all.sorted { $0.name < $1.name }
        }
    }

    func status(of member: Member) async -> PeerStatus {
        guard let url = member.record.apiURL else { return .unreachable(member.name) }
        let client = self.client
        let timeout = self.timeout
        // The whole exchange, body included, within the timeout: a peer that stalls after
        // sending its headers must not hold up a leader race.
        let answer: Result<JSONValue, PeerProblem>
        do {
            answer = .success(try await Deadline.run(within: timeout) {
                var request = HTTPClientRequest(url: url)
                request.method = .GET
                let response = try await client.execute(request, timeout: .seconds(timeout.components.seconds))
                let body = try await response.body.collect(upTo: 1 << 20)
                guard let json = try? JSONValue.parse(Array(body.readableBytesView)) else {
                    throw PeerProblem("HTTP \(response.status.code) without a JSON status")
                }
                return json
            })
        } catch let problem as PeerProblem {
            answer = .failure(problem)
        } catch {
            answer = .failure(PeerProblem(HTTPClients.describe(error, timeout: timeout)))
        }
        switch answer {
        case let .success(json):
            return Self.peerStatus(member.name, json)
        case let .failure(problem):
            logger.warning("peer \(member.name) (\(url)) counts as unreachable: \(problem.reason)")
            return .unreachable(member.name)
        }
    }

    public func answersLiveness(_ apiURL: String) async -> Bool {
        guard let base = URL(string: apiURL), var components = URLComponents(url: base, resolvingAgainstBaseURL: false) else {
            return false
        }
        components.path = "/liveness"
        guard let url = components.url?.absoluteString else { return false }
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .GET
            let response = try await client.execute(request, timeout: .seconds(3))
            return response.status.code == 200
        } catch {
            return false
        }
    }

    /// A peer's `/patroni` document as the race reads it: role, WAL position, tags, timeline.
    /// A peer whose PostgreSQL is not running counts as unreachable (Patroni: no `xlog`), and
    /// its tags are read as every member reads them (`FailoverTags`).
    public static func peerStatus(_ name: String, _ json: JSONValue) -> PeerStatus {
        guard json["state"]?.stringValue == "running", let xlog = json["xlog"] else { return .unreachable(name) }
        let role = json["role"]?.stringValue
        let inRecovery = role != "primary" && role != "master"
        // Positions a peer cannot have (negative) read as 0: the peer then looks behind, never ahead.
        let wal = inRecovery
            ? max(xlog["received_location"]?.walPosition ?? 0, xlog["replayed_location"]?.walPosition ?? 0)
            : xlog["location"]?.walPosition ?? 0
        let tags = FailoverTags(json["tags"])
        let watchdogFailed = json["watchdog_failed"].map(FailoverTags.truthy) ?? false
        return PeerStatus(name: name, reachable: true, inRecovery: inRecovery, walPosition: wal,
                          nofailover: tags.nofailover || watchdogFailed, failoverPriority: tags.priority,
                          timeline: json["timeline"]?.timelineID)
    }
}

/// Why a peer's status could not be had.
struct PeerProblem: Error, Sendable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
