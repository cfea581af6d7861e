import Foundation
import VigilConfig
import VigilCore
import VigilSystem

/// The files the lab writes: each node's patroni.yml (the guide's, with loopback addresses
/// and lab paths), HAProxy's configuration, and a password file for psql.
enum LabFiles {
    /// The guide's superuser password (the lab reproduces the guide, secrets included, in
    /// files only its owner can read).
    static let superuserPassword = "Qwe1234!"
    /// The guide's application role and database (bootstrap.users; stage 2's CREATE DATABASE).
    static let applicationUser = "sqlUser"
    static let applicationPassword = "Qwe1234!"
    static let database = "sqluser_db"

    static func nodeConfig(_ node: LabLayout.Node, layout: LabLayout, pgBin: String, profile: LabProfile,
                           sync: LabSync = .off) -> String {
        let dir = layout.nodeDirectory(node)
        let t = profile.timings
        let syncLines = sync.dcsLines.map { "\n    " + $0 }.joined()
        return """
            # The guide's patroni.yml for \(node.name), on loopback (written by vigilctl lab up).
            scope: \(layout.scope)
            namespace: \(layout.namespace)
            name: \(node.name)

            restapi:
              listen: \(node.host):\(node.restPort)
              connect_address: \(node.host):\(node.restPort)

            etcd3:
              hosts: \(layout.etcdEndpoints.joined(separator: ","))

            bootstrap:
              dcs:
                ttl: \(t.ttl)
                loop_wait: \(t.loopWait)
                retry_timeout: \(t.retryTimeout)
                maximum_lag_on_failover: 1048576\(syncLines)
                postgresql:
                  use_pg_rewind: true
                  use_slots: true
                  parameters:
                    wal_level: replica
                    hot_standby: "on"
                    wal_keep_size: 128MB
                    max_wal_senders: 10
                    max_replication_slots: 10
                    checkpoint_timeout: 30

              initdb:
              - encoding: UTF8
              - data-checksums

              pg_hba:
              - host replication replicator 127.0.0.0/8 scram-sha-256
              - host all all 127.0.0.0/8 scram-sha-256

              users:
                \(applicationUser):
                  password: \(applicationPassword)
                  options:
                    - createdb

            postgresql:
              listen: \(node.host):\(node.postgresPort)
              connect_address: \(node.host):\(node.postgresPort)
              data_dir: \(dir)/data
              bin_dir: \(pgBin)
              pgpass: \(dir)/pgpass
              authentication:
                replication:
                  username: replicator
                  password: Replicator123!
                superuser:
                  username: postgres
                  password: \(superuserPassword)
              parameters:
                unix_socket_directories: '\(dir)'

            tags:
              nofailover: false
              noloadbalance: false
              clonefrom: false
              nosync: false

            """
    }

    static func haproxy(_ layout: LabLayout, profile: LabProfile) -> String {
        HAProxyConfig(
            servers: layout.nodes.map {
                .init(name: $0.name, postgres: HostPort(hosts: [$0.host], port: $0.postgresPort), restPort: $0.restPort)
            },
            writeBind: HostPort(hosts: [layout.haproxyHost], port: layout.writePort),
            readBind: HostPort(hosts: [layout.haproxyHost], port: layout.readPort),
            statsBind: HostPort(hosts: [layout.haproxyHost], port: layout.statsPort),
            ttl: profile.timings.ttl).render()
    }

    /// `host:port:db:user:password` lines for psql through HAProxy.
    static func pgpass(_ layout: LabLayout) -> String {
        [layout.writePort, layout.readPort].flatMap {
            ["\(layout.haproxyHost):\($0):*:postgres:\(superuserPassword)",
             "\(layout.haproxyHost):\($0):*:\(applicationUser):\(applicationPassword)"]
        }.joined(separator: "\n") + "\n"
    }

    static func write(_ text: String, to path: String, mode: Int, owner: ProcessOwner?) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw LabError("cannot write \(path)")
        }
        try owner?.own(path)
    }
}
