import VigilConfig
import VigilDCS

extension EtcdConnectionSettings {
    /// How to reach etcd as the configuration's store section says (`etcd3:` or the guide's `etcd:`).
    public init(_ dcs: DCSConfig) {
        self.init(hosts: dcs.hosts, url: dcs.url, proxy: dcs.proxy, protocol: dcs.protocol, useProxies: dcs.useProxies,
                  username: dcs.username, password: dcs.password?.value, caFile: dcs.cacert, certFile: dcs.cert,
                  keyFile: dcs.key)
    }
}
