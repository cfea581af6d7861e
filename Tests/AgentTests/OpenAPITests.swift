import Foundation
import Testing
import VigilConfig
import VigilCore
import VigilTestSupport

/// The published API description (docs/openapi.yaml) against a running agent: every
/// documented operation answers with one of its documented codes, and JSON bodies carry the
/// documented required fields.
@Suite(.serialized) struct OpenAPITests {
    static let auth = (username: "admin", password: "openapi-s3cret")

    /// Bodies that exercise an operation without changing the cluster under the test.
    static let harmlessBodies: [String: String] = [
        "POST /switchover": #"{"leader":"nobody"}"#,
        "POST /failover": #"{"candidate":"nobody"}"#,
        "POST /restart": #"{"role":"standby_leader"}"#,
        "POST /reinitialize": "{}",
        "PATCH /config": #"{"vigil_openapi_probe":null}"#,
        "PUT /config": "{}",
    ]

    @Test func everyDocumentedOperationAnswersWithADocumentedCode() async throws {
        let path = TestTools.repositoryRoot.appendingPathComponent("docs/openapi.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let document = try YAMLDocument.parse(text, file: path).jsonValue
        let paths = try #require(document["paths"]?.objectValue)
        #expect(paths.count >= 15)
        try await AgentCluster.with { cluster in
            let node = try cluster.add("node1", restAuthentication: Self.auth)
            try await node.start()
            try await cluster.require("node1 leads", within: .seconds(60)) { await node.isPrimary() }
            // PUT /config {} would wipe the config: keep it, and put it back afterwards.
            let config = try await cluster.get("config") ?? "{}"
            var checked = 0
            for (route, operations) in paths {
                for (method, operation) in operations.objectValue ?? [] {
                    let key = "\(method.uppercased()) \(route)"
                    let documented = Set((operation["responses"]?.objectValue ?? []).compactMap { Int($0.key) })
                    var body = Self.harmlessBodies[key]
                    if key == "PUT /config" { body = config }
                    let answer = await node.request(method.uppercased(), route, body: body,
                                                    username: Self.auth.username, password: Self.auth.password)
                    #expect(documented.contains(answer.status), "\(key) answered \(answer.status) (\(answer.body)); documented: \(documented.sorted())")
                    let schema = operation["responses"]?[String(answer.status)]
                    if let required = Self.requiredFields(schema, document), !required.isEmpty {
                        let json = try? JSONValue.parse(answer.body)
                        for field in required { #expect(json?[field] != nil, "\(key): no \(field) in \(answer.body)") }
                    }
                    checked += 1
                }
            }
            #expect(checked >= 22)
            #expect(try await cluster.get("config") == config)
            // Protected operations refuse a wrong password, as documented (401).
            let refused = await node.request("POST", "/reload", username: Self.auth.username, password: "wrong")
            #expect(refused.status == 401)
        }
    }

    /// Schemathesis generates requests from the document (its examples, the edges of every
    /// schema, then random and broken bodies, headers and queries) for a bounded time against
    /// an agent that requires authentication: every answer must be one the document allows for
    /// that request, with the documented content type and schema, and the agent must be up
    /// afterwards. Not checked: 5xx as such (health checks answer 503 by design, and an unknown
    /// method 501, as Patroni answers), and that schema-valid bodies are accepted (a valid
    /// request can still be refused for the cluster's state: no such candidate, the same
    /// member, not healthy).
    @Test func schemathesisFindsNoAnswerTheDocumentDoesNotAllow() async throws {
        let path = TestTools.repositoryRoot.appendingPathComponent("docs/openapi.yaml").path
        let home = try TestTools.schemathesisHome()
        try await AgentCluster.with { cluster in
            let node = try cluster.add("node1", restAuthentication: Self.auth)
            try await node.start()
            try await cluster.require("node1 leads", within: .seconds(60)) { await node.isPrimary() }
            let run = try await CommandRun.run("/usr/bin/python3", [
                "-m", "schemathesis.cli", "run", path, "--url", node.restURL,
                "--auth", "\(Self.auth.username):\(Self.auth.password)",
                "--checks", "all", "--exclude-checks", "not_a_server_error,unsupported_method,positive_data_acceptance",
                "--phases", "examples,coverage,fuzzing", "--max-time", "60", "--request-timeout", "10",
                "--seed", "20261203", "--no-color",
            ], environment: ["PYTHONPATH": home, "SCHEMATHESIS_HOOKS": nil])
            #expect(run.exitCode == 0, "\(run.stdout.suffix(6000))")
            #expect(await node.get("/liveness").status == 200, "the agent answers after the run")
            #expect(node.current?.isRunning == true, "the agent is still running")
        }
    }

    /// The `required` list of the JSON schema a response points to (following `$ref`s).
    static func requiredFields(_ response: JSONValue?, _ document: JSONValue) -> [String]? {
        func resolve(_ value: JSONValue?) -> JSONValue? {
            guard let ref = value?["$ref"]?.stringValue else { return value }
            var node: JSONValue? = document
            for part in ref.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
            return resolve(node)
        }
        let schema = resolve(resolve(response)?["content"]?["application/json"]?["schema"])
        return schema?["required"]?.arrayValue?.compactMap(\.stringValue)
    }
}
