/// Who may act on the cluster through the REST API.
enum RestAPIRules {
    static func check(_ input: ValidationInput) -> [Diagnostic] {
        let rest = input.configuration.restAPI
        guard rest.listen != nil else { return [] }
        var findings: [Diagnostic] = []
        if rest.authentication?.username == nil || rest.authentication?.password == nil {
            let closed = rest.allowlist.isEmpty && !rest.allowlistIncludeMembers
            findings.append(Diagnostic(
                .warning, code: "rest-no-auth", path: "restapi.authentication", location: input.location(ofParent: ["restapi"]),
                message: "the endpoints that act on the cluster (switchover, failover, restart, reinitialize, config) have no password"
                    + (closed ? "; only this host and the cluster's members may call them (Patroni would let anyone on the network)." : "."),
                fix: "set restapi.authentication.username and .password, and the same under ctl.authentication for vigilctl"
                    + (closed ? "; or list the addresses that may call them in restapi.allowlist." : ".")))
        }
        if let verify = rest.verifyClient, !["none", "optional", "required"].contains(verify) {
            findings.append(Diagnostic(
                .error, code: "bad-verify-client", path: "restapi.verify_client",
                location: input.keyLocation(["restapi", "verify_client"]),
                message: "'\(verify)' is not one of none, optional, required.", fix: "use one of none, optional, required."))
        }
        return findings
    }
}
