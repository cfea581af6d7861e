/// `restapi:` — where the agent's REST API listens and who may use it.
public struct RestAPIConfig: Sendable {
    public var listen: String?
    public var connectAddress: String?
    public var authentication: Credentials?
    public var certfile: String?
    public var keyfile: String?
    public var keyfilePassword: Secret?
    public var cafile: String?
    public var ciphers: String?
    /// none | optional | required
    public var verifyClient: String?
    public var allowlist: [String]
    public var allowlistIncludeMembers: Bool
    public var httpExtraHeaders: ConfigNode?
    public var httpsExtraHeaders: ConfigNode?
    public var requestQueueSize: Int?
    public var serverTokens: String?

    init(_ s: ConfigSection) {
        listen = s.string("listen")
        connectAddress = s.string("connect_address")
        authentication = Credentials(s.section("authentication"))
        certfile = s.string("certfile")
        keyfile = s.string("keyfile")
        keyfilePassword = s.string("keyfile_password").map(Secret.init)
        cafile = s.string("cafile")
        ciphers = s.string("ciphers")
        verifyClient = s.string("verify_client")
        allowlist = s.strings("allowlist") ?? []
        allowlistIncludeMembers = s.bool("allowlist_include_members") ?? false
        httpExtraHeaders = s.whole("http_extra_headers")
        httpsExtraHeaders = s.whole("https_extra_headers")
        requestQueueSize = s.int("request_queue_size")
        serverTokens = s.string("server_tokens")
        // A Python server's thread count; Vigil's server is event-driven and ignores it.
        _ = s.int("thread_pool_size")
    }
}

/// `ctl:` — how `vigilctl` (and patronictl) authenticate to the REST API.
public struct CtlConfig: Sendable {
    public var authentication: Credentials?
    public var insecure: Bool
    public var cacert: String?
    public var certfile: String?
    public var keyfile: String?
    public var keyfilePassword: Secret?

    init(_ s: ConfigSection) {
        authentication = Credentials(s.section("authentication"))
        insecure = s.bool("insecure") ?? false
        cacert = s.string("cacert")
        certfile = s.string("certfile")
        keyfile = s.string("keyfile")
        keyfilePassword = s.string("keyfile_password").map(Secret.init)
    }
}

