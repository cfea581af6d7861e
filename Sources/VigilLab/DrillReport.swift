import Foundation
import VigilCore

/// What a drill measured, as printed and as written to `<lab>/reports/`.
public struct DrillReport: Sendable {
    public var kind: DrillKind
    public var agent: LabAgent
    public var profile: LabProfile
    public var sync: LabSync = .off
    public var oldLeader: String
    public var newLeader: String
    /// From the fault to a primary serving writes again: the promoted node for a failover, the
    /// same node for a crash it recovers from.
    public var primaryAfter: Double?
    /// From the last acknowledged write before the fault to the first one after it (through HAProxy).
    public var writeDowntime: Double
    /// Acknowledged and lost writes, through HAProxy and straight to each node.
    public var paths: [Path]
    /// The old primary's last acknowledged write less the new primary's first, in seconds: above
    /// 0, two nodes acknowledged writes at the same time. Nil when the same node leads after.
    public var twoPrimaries: Double?
    /// Failed attempts through HAProxy.
    public var failedAttempts: Int
    /// From the failed node being given back (agent started, SIGCONT, etcd started; the fault
    /// itself for a crash or a switchover) to every node streaming from the primary again.
    /// Nil: the cluster was not whole again within 180 s.
    public var rejoin: Double?
    var timeline: DrillTimeline

    public struct Path: Sendable {
        /// `haproxy`, or `direct to <node>`.
        public var name: String
        public var acknowledged: Int
        public var lost: Int
        /// The first lost writes: which id, when it was acknowledged (seconds after the fault,
        /// negative before it) and by which server, to tell where a loss came from.
        public var examples: [LostWrite] = []
    }

    public struct LostWrite: Sendable {
        public var id: Int64
        public var acknowledgedAfterFault: Double
        public var server: String
    }

    public var acknowledged: Int { paths.reduce(0) { $0 + $1.acknowledged } }
    public var lost: Int { paths.reduce(0) { $0 + $1.lost } }

    /// Pass: never two primaries acknowledging writes at once, the cluster whole again within
    /// 180 s, and no acknowledged write lost where the configuration promises none. Synchronous replication promises it for every drill: a commit is
    /// acknowledged only once a standby that may take over has it.
    public var passed: Bool {
        rejoin != nil && (twoPrimaries ?? 0) <= 0 && (lost == 0 || (sync == .off && !kind.promisesNoLoss))
    }

    var title: String {
        "\(kind.rawValue) under \(agent.rawValue) (\(profile.rawValue) timings\(sync == .off ? "" : ", synchronous replication \(sync.rawValue)"))"
    }

    var json: JSONValue {
        func seconds(_ value: Double) -> JSONValue { .double((value * 1000).rounded() / 1000) }
        var o: [(key: String, value: JSONValue)] = [
            ("drill", .string(kind.rawValue)), ("agent", .string(agent.rawValue)), ("profile", .string(profile.rawValue)),
            ("ttl", .int(Int64(profile.timings.ttl))), ("loop_wait", .int(Int64(profile.timings.loopWait))),
            ("retry_timeout", .int(Int64(profile.timings.retryTimeout))), ("synchronous_mode", .string(sync.rawValue)),
            ("old_leader", .string(oldLeader)), ("new_leader", .string(newLeader)),
        ]
        if let primaryAfter { o.append(("primary_after_seconds", seconds(primaryAfter))) }
        o += [
            ("write_downtime_seconds", seconds(writeDowntime)),
            ("acknowledged_writes", .int(Int64(acknowledged))), ("lost_writes", .int(Int64(lost))),
            ("paths", .array(paths.map { path in
                var fields: [(key: String, value: JSONValue)] = [("path", .string(path.name)),
                                                                 ("acknowledged_writes", .int(Int64(path.acknowledged))),
                                                                 ("lost_writes", .int(Int64(path.lost)))]
                if !path.examples.isEmpty {
                    fields.append(("lost_examples", .array(path.examples.map {
                        .object([("id", .int($0.id)), ("acknowledged_after_fault_seconds", seconds($0.acknowledgedAfterFault)),
                                 ("server", .string($0.server))])
                    })))
                }
                return .object(fields)
            })),
        ]
        if let twoPrimaries { o.append(("two_primaries_seconds", seconds(twoPrimaries))) }
        o += [
            ("failed_attempts", .int(Int64(failedAttempts))),
            ("rejoin_seconds", rejoin.map(seconds) ?? .null),
            ("verdict", .string(passed ? "pass" : "fail")),
        ]
        return .object(o)
    }

    /// The report as the operator reads it.
    var table: [String] {
        let moved = oldLeader == newLeader ? "\(newLeader) (the same node)" : newLeader
        var rows: [(String, String)] = [("drill", title), ("old primary", oldLeader)]
        rows.append(("primary now", primaryAfter.map { String(format: "%@, serving writes %.2f s after the fault", moved, $0) } ?? moved))
        rows.append(("write downtime", String(format: "%.2f s (seen by a client writing through HAProxy)", writeDowntime)))
        for path in paths where path.name == "haproxy" || path.acknowledged > 0 {
            let failed = path.name == "haproxy" ? ", \(failedAttempts) failed attempts" : ""
            rows.append(("writes " + path.name, "\(path.acknowledged) acknowledged, lost: \(path.lost)\(failed)"))
            if !path.examples.isEmpty {
                let shown = path.examples.prefix(3).map { String(format: "id %lld acknowledged by %@ at %+.2f s", $0.id, $0.server, $0.acknowledgedAfterFault) }
                rows.append(("", "lost: " + shown.joined(separator: "; ") + (path.lost > 3 ? "; …" : "")))
            }
        }
        if let twoPrimaries {
            rows.append(("two primaries", twoPrimaries <= 0
                ? String(format: "no: the old primary's last acknowledged write came %.2f s before the new primary's first", -twoPrimaries)
                : String(format: "YES: both acknowledged writes for %.2f s", twoPrimaries)))
        }
        let streams = oldLeader == newLeader ? "every replica" : oldLeader
        rows.append(("cluster whole", rejoin.map { String(format: "%.2f s after %@ (%@ streams again)", $0, rejoinEvent, streams) }
            ?? "not within 180 s after \(rejoinEvent)"))
        var verdict = passed ? "PASS"
            : (twoPrimaries ?? 0) > 0 ? "FAIL: two primaries acknowledged writes at the same time"
            : rejoin == nil ? "FAIL: the cluster did not come back whole"
            : "FAIL: \(lost) acknowledged writes lost where the configuration promises none"
        if passed && lost > 0 { verdict += " (\(lost) writes lost with the node: asynchronous replication allows it)" }
        rows.append(("verdict", verdict))
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
    }

    private var rejoinEvent: String {
        switch kind {
        case .killPrimary, .stopPrimary: "its agent was started again"
        case .agentCrash: "its agent was started again (3 × ttl after the crash)"
        case .freezePrimary: "its agent was woken (SIGCONT)"
        case .etcdDown: "etcd was started again"
        case .hangPostgres: "what was left of the hung server was let go (SIGCONT)"
        case .isolatePrimary: "its node was reconnected (3 × ttl after it was cut off)"
        case .crashPostgres: "the crash"
        case .switchover: "the request"
        }
    }
}

/// The acknowledged writes of a drill over time, one lane per node, the failed attempts
/// through HAProxy under them, and the fault, the new primary serving and the node given
/// back as lines, as an SVG for a report.
struct DrillTimeline: Sendable {
    var acks: [WriteProbe.Ack]
    var start: ContinuousClock.Instant
    var fault: ContinuousClock.Instant
    var restored: ContinuousClock.Instant?
    var nodes: [(name: String, host: String)]
    /// Failed write attempts through HAProxy.
    var failures: [ContinuousClock.Instant] = []
    /// When a primary served writes again after the fault (the promoted node, for a failover).
    var primaryServing: ContinuousClock.Instant?

    func svg(title: String) -> String {
        let end = max(acks.last?.at ?? fault, restored ?? fault, failures.last ?? fault, primaryServing ?? fault)
        let span = max((end - start).inSeconds, 1)
        let left = 110.0, width = 760.0, lane = 34.0, top = 40.0, strip = 18.0
        let canvas = left + width + 20
        func x(_ instant: ContinuousClock.Instant) -> Double { left + (instant - start).inSeconds / span * width }
        let lanesBottom = top + lane * Double(nodes.count)
        let bottom = lanesBottom + strip
        let height = bottom + 60
        var out = [String]()
        // A label starts at its line, or ends there when it would run past the right edge
        // (about 7 px a character at this size).
        func label(_ text: String, at position: Double, y: Double, color: String) {
            let fits = position + 4 + Double(text.count) * 7 <= canvas
            let anchor = fits ? "" : ##" text-anchor="end""##
            out.append(##"<text x="\##(fmt(fits ? position + 4 : position - 4))" y="\##(fmt(y))" fill="\##(color)"\##(anchor)>\##(escape(text))</text>"##)
        }
        func marker(_ instant: ContinuousClock.Instant, _ color: String, dashed: Bool = false) {
            let dash = dashed ? ##" stroke-dasharray="4 3""## : ""
            out.append(##"<line x1="\##(fmt(x(instant)))" y1="\##(fmt(top))" x2="\##(fmt(x(instant)))" y2="\##(fmt(bottom))" stroke="\##(color)" stroke-width="2"\##(dash)/>"##)
        }
        out.append(##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(canvas))" height="\##(Int(height))" font-family="sans-serif" font-size="12">"##)
        out.append(##"<text x="10" y="20" font-size="14">\##(escape(title)): acknowledged writes per node</text>"##)
        for (index, node) in nodes.enumerated() {
            let y = top + lane * Double(index)
            out.append(##"<text x="10" y="\##(fmt(y + lane / 2 + 4))">\##(escape(node.name))</text>"##)
            out.append(##"<rect x="\##(fmt(left))" y="\##(fmt(y + 4))" width="\##(fmt(width))" height="\##(fmt(lane - 8))" fill="#f4f4f4"/>"##)
            var path = ""
            for ack in acks where ack.server == node.host {
                path += "M\(fmt(x(ack.at))) \(fmt(y + 6))v\(fmt(lane - 12))"
            }
            if !path.isEmpty { out.append(##"<path d="\##(path)" stroke="#2b7bb9" stroke-width="1"/>"##) }
        }
        out.append(##"<text x="10" y="\##(fmt(lanesBottom + strip / 2 + 4))" fill="#ff7f0e">failed writes</text>"##)
        var failed = ""
        for failure in failures { failed += "M\(fmt(x(failure))) \(fmt(lanesBottom + 3))v\(fmt(strip - 6))" }
        if !failed.isEmpty { out.append(##"<path d="\##(failed)" stroke="#ff7f0e" stroke-width="1"/>"##) }
        marker(fault, "#d62728")
        label("fault", at: x(fault), y: bottom + 14, color: "#d62728")
        if let primaryServing {
            marker(primaryServing, "#9467bd", dashed: true)
            label("new primary serving", at: x(primaryServing), y: bottom + 28, color: "#9467bd")
        }
        if let restored {
            marker(restored, "#2ca02c")
            label("node given back", at: x(restored), y: bottom + 42, color: "#2ca02c")
        }
        out.append(##"<text x="\##(fmt(left))" y="\##(fmt(bottom + 56))">0 s</text>"##)
        out.append(##"<text x="\##(fmt(left + width))" y="\##(fmt(bottom + 56))" text-anchor="end">\##(String(format: "%.1f s", span))</text>"##)
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    private func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
