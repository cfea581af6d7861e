import VigilCore

/// The coordination store section: exactly one, one Vigil speaks, with somewhere to connect.
enum StoreRules {
    static func check(_ input: ValidationInput) -> [Diagnostic] {
        let sections = input.configuration.dcsSections
        guard let store = sections.first else {
            return [Diagnostic(.error, code: "no-store", path: "etcd3", location: input.mainFile.map { SourceLocation(file: $0) },
                               message: "required section is missing: no coordination store is configured.",
                               fix: "add an etcd3: section with hosts: [ADDRESS:2379, …].")]
        }
        var findings: [Diagnostic] = []
        if sections.count > 1 {
            findings.append(Diagnostic(
                .error, code: "several-stores", path: sections[1].kind.sectionName, location: sections[1].location,
                message: "only one coordination store may be configured, found \(sections.map { "\($0.kind.sectionName):" }.joined(separator: " and ")).",
                fix: "keep one of them (etcd3: for etcd)."))
        }
        switch store.kind {
        case let .unsupported(name):
            findings.append(Diagnostic(
                .error, code: "unsupported-store", path: name, location: store.location,
                message: "Vigil coordinates through etcd only; \(name): is not supported.",
                fix: "run etcd 3.4 or newer and configure it in an etcd3: section."))
            return findings
        case .etcdV2Section:
            findings.append(Diagnostic(
                .warning, code: "etcd-v2-api", path: "etcd", location: store.location,
                message: "the etcd: section selects etcd's v2 API, which etcd 3.4+ disables by default and 3.6 removes; Patroni would fail to connect. Vigil reads the section and talks etcd's v3 API to the same hosts.",
                fix: "rename the section to etcd3: so every tool reading this file uses the v3 API."))
        case .etcd3:
            break
        }
        if store.hosts.isEmpty, store.url == nil, store.proxy == nil, store.srv == nil {
            findings.append(Diagnostic(
                .warning, code: "store-no-hosts", path: store.kind.sectionName, location: store.location,
                message: "no hosts, host, url, proxy or srv: Vigil will try 127.0.0.1:2379.",
                fix: "list the etcd endpoints in hosts:."))
        }
        for host in store.hosts where HostPort(host) == nil && !host.contains("://") {
            findings.append(Diagnostic(
                .error, code: "store-bad-host", path: "\(store.kind.sectionName).hosts", location: store.location,
                message: "'\(host)' is not HOST:PORT.", fix: "write each endpoint as HOST:PORT, e.g. 10.0.0.1:2379."))
        }
        return findings
    }
}
