import Testing
import VigilCore
import VigilDCS

/// Endpoints from the forms a patroni.yml may use.
@Suite struct EtcdConnectionSettingsTests {
    @Test func hostsGetASchemeAndTheDefaultPort() {
        #expect(EtcdConnectionSettings(hosts: ["10.0.0.1:2379", "10.0.0.2"]).endpoints
            == ["http://10.0.0.1:2379", "http://10.0.0.2:2379"])
        #expect(EtcdConnectionSettings(hosts: ["10.0.0.1:2379"], protocol: "https").endpoints == ["https://10.0.0.1:2379"])
        #expect(EtcdConnectionSettings(hosts: ["10.0.0.1:2379"], caFile: "/ca.pem").endpoints == ["https://10.0.0.1:2379"])
    }

    @Test func proxyWinsAndTurnsOffDiscovery() {
        let settings = EtcdConnectionSettings(hosts: ["10.0.0.1:2379"], proxy: "http://proxy:2379/")
        #expect(settings.endpoints == ["http://proxy:2379"])
        #expect(!settings.discoverMembers)
        #expect(!EtcdConnectionSettings(hosts: ["a:1"], useProxies: true).discoverMembers)
    }

    @Test func urlIsUsedWhenThereAreNoHostsAndLocalhostLast() {
        #expect(EtcdConnectionSettings(hosts: [], url: "http://etcd.example:2379").endpoints == ["http://etcd.example:2379"])
        #expect(EtcdConnectionSettings(hosts: []).endpoints == ["http://127.0.0.1:2379"])
    }

    @Test func thePasswordStaysOutOfItsDescription() {
        let settings = EtcdConnectionSettings(hosts: ["h:2379"], username: "vigil", password: "s3cret")
        #expect(settings.description == "etcd http://h:2379 as vigil")
        #expect(!"\(settings)".contains("s3cret"))
    }
}

/// The JSON gateway's prefix from `GET /version`, as etcd answers it while a cluster forms.
@Suite struct EtcdGatewayPrefixTests {
    @Test(arguments: [
        (#"{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}"#, "/v3"),
        // A forming cluster reports 3.0.0 before its members agree: the server decides.
        (#"{"etcdserver":"3.4.23","etcdcluster":"3.0.0"}"#, "/v3"),
        (#"{"etcdserver":"3.5.17","etcdcluster":"not_decided"}"#, "/v3"),
        (#"{"etcdserver":"3.3.25","etcdcluster":"3.3.0"}"#, "/v3beta"),
        (#"{"etcdserver":"3.2.32","etcdcluster":"3.2.0"}"#, "/v3alpha"),
        (#"{"etcdcluster":"3.4.0"}"#, "/v3"),
    ])
    func theServersVersionChoosesThePrefix(document: String, prefix: String) throws {
        #expect(EtcdGateway.apiPrefix(versionDocument: try JSONValue.parse(document)) == prefix)
    }

    @Test func aDocumentWithoutAVersionChoosesNothing() throws {
        #expect(EtcdGateway.apiPrefix(versionDocument: try JSONValue.parse(#"{"etcdcluster":"not_decided"}"#)) == nil)
        #expect(EtcdGateway.apiPrefix(versionDocument: try JSONValue.parse("{}")) == nil)
    }
}
