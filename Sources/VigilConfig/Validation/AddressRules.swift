import VigilCore

/// Addresses that parse, and ports that point at the right service.
enum AddressRules {
    static func check(_ input: ValidationInput) -> [Diagnostic] {
        let c = input.configuration
        var findings: [Diagnostic] = []
        func parsed(_ value: String?, _ path: [String]) -> HostPort? {
            guard let value else { return nil }
            if let address = HostPort(value) { return address }
            findings.append(Diagnostic(
                .error, code: "bad-address", path: path.joined(separator: "."), location: input.keyLocation(path),
                message: "'\(value)' is not HOST:PORT.", fix: "write it as HOST:PORT, e.g. 10.0.0.1:\(path[0] == "restapi" ? 8008 : 5432)."))
            return nil
        }
        let restListen = parsed(c.restAPI.listen, ["restapi", "listen"])
        let restConnect = parsed(c.restAPI.connectAddress, ["restapi", "connect_address"])
        let pgListen = parsed(c.postgresql.listen, ["postgresql", "listen"])
        let pgConnect = parsed(c.postgresql.connectAddress, ["postgresql", "connect_address"])
        let restPorts = Set([restListen?.port, restConnect?.port].compactMap { $0 })

        if let pgConnect, restPorts.contains(pgConnect.port) {
            let right = pgListen.map { "\(pgConnect.host):\($0.port)" } ?? "\(pgConnect.host):5432"
            findings.append(Diagnostic(
                .error, code: "connect-address-is-rest-port", path: "postgresql.connect_address",
                location: input.keyLocation(["postgresql", "connect_address"]),
                message: "points at port \(pgConnect.port), the REST API's port (restapi.listen): replicas would stream from, and clients connect to, the REST API instead of PostgreSQL.",
                fix: "use PostgreSQL's port from postgresql.listen: \(right)."))
        } else if let pgConnect, let pgListen, pgConnect.port != pgListen.port {
            findings.append(Diagnostic(
                .warning, code: "connect-port-differs", path: "postgresql.connect_address",
                location: input.keyLocation(["postgresql", "connect_address"]),
                message: "port \(pgConnect.port) differs from postgresql.listen's port \(pgListen.port); that only works behind a port-forwarding proxy.",
                fix: "use port \(pgListen.port) unless a proxy really forwards \(pgConnect.port)."))
        }
        if let pgListen, let restListen, pgListen.port == restListen.port,
           !Set(pgListen.hosts).isDisjoint(with: restListen.hosts) || pgListen.hosts.contains("0.0.0.0")
            || restListen.hosts.contains("0.0.0.0") {
            findings.append(Diagnostic(
                .error, code: "listen-port-clash", path: "postgresql.listen", location: input.keyLocation(["postgresql", "listen"]),
                message: "PostgreSQL and the REST API would both listen on port \(pgListen.port).",
                fix: "give them different ports (PostgreSQL 5432, REST 8008)."))
        }
        for (address, path) in [(restConnect, "restapi.connect_address"), (pgConnect, "postgresql.connect_address")] {
            if let address, ["0.0.0.0", "::", "*"].contains(address.host) {
                findings.append(Diagnostic(
                    .error, code: "connect-address-wildcard", path: path,
                    location: input.keyLocation(path.split(separator: ".").map(String.init)),
                    message: "\(address.host) is a listen-everywhere address; other members cannot connect to it.",
                    fix: "use this node's own address that the other nodes can reach."))
            }
        }
        return findings
    }
}
