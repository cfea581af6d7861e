import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals
import VigilAPI
import VigilConfig
import VigilCore
import VigilDCS
import VigilPostgres
import VigilSystem

/// `vigil CONFIG`: one node's agent. The HA loop and the REST server run as services of one
/// ServiceGroup; SIGTERM/SIGINT shut the loop down first (PostgreSQL stopped, leader key
/// released), then the server. SIGHUP reloads the configuration file.
public enum Agent {
    /// Runs until stopped; returns the process exit code.
    public static func run(configPath: String, logger: Logger) async -> Int32 {
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigSource.load(path: configPath)
        } catch {
            logger.critical("\(error)")
            return 2
        }
        // What check-config would say, once: a key the agent does not act on is never silent.
        for diagnostic in ConfigValidator.validate(loaded) where diagnostic.severity != .info {
            if diagnostic.severity == .error { logger.error("\(diagnostic.rendered)") } else { logger.warning("\(diagnostic.rendered)") }
        }
        let setup: AgentSetup
        do {
            setup = try AgentSetup(loaded.configuration)
        } catch {
            logger.critical("\(configPath): \(error)")
            return 1
        }
        for host in setup.restListen.hosts where !SocketProbe.isFree(host: host, port: setup.restListen.port) {
            logger.critical("restapi.listen \(host):\(setup.restListen.port) is already in use: is another agent running on this node?")
            return 1
        }
        let gateway: EtcdGateway
        do {
            gateway = try EtcdGateway(settings: setup.store)
        } catch {
            logger.critical("\(setup.store): \(error)")
            return 1
        }
        let timings = setup.configuration.bootstrap.dcs.engineSettings.timings
        let store = EtcdStore(kv: gateway, layout: setup.layout, memberName: setup.identity.name,
                              ttl: timings.ttl, retryTimeout: timings.retryTimeout)
        let wakeup = Wakeup()
        let box = SnapshotBox(NodeSnapshot(scope: setup.configuration.scope ?? "", name: setup.identity.name,
                                           noloadbalance: setup.noloadbalance),
                              onWake: { wakeup.signal() })
        await gateway.observeCalls { call, seconds in box.update { $0.storeCalls[call, default: CycleHistogram()].record(seconds) } }
        box.update { $0.tags = setup.tags }
        let notifier = SystemdNotifier()
        let instance = PostgresInstance(settings: setup.instance)
        // The peers' REST APIs are asked with the loop's client (trusting restapi.cafile when they
        // speak TLS), on which a refused connection fails at once: a peer whose agent is stopping.
        let rest = setup.configuration.restAPI
        let peerClient = HTTPClients.client(.loop, tls: setup.peerTLS,
                                            tlsKey: [rest.cafile, rest.certfile, rest.keyfile].map { $0 ?? "" }.joined(separator: "\u{0}"))
        return await serve(configPath: configPath, setup: setup, store: store, instance: instance,
                           probe: PeerProbe(client: peerClient, logger: logger), box: box, wakeup: wakeup, notifier: notifier, logger: logger)
    }

    /// The HA loop and the REST server, until stopped; returns the process exit code.
    private static func serve(configPath: String, setup: AgentSetup, store: EtcdStore, instance: PostgresInstance,
                              probe: PeerProbe, box: SnapshotBox, wakeup: Wakeup, notifier: SystemdNotifier,
                              logger: Logger) async -> Int32 {
        let callbacks = CallbackRunner(scripts: setup.configuration.postgresql.callbacks, scope: setup.configuration.scope ?? "",
                                       logger: logger)
        let loop = HALoop(configPath: configPath, setup: setup, store: store, instance: instance, probe: probe, box: box,
                          wakeup: wakeup, logger: logger, callbacks: callbacks, callbackEvents: callbacks.events,
                          fence: FenceClient(dataDirectory: setup.instance.dataDirectory), onStatus: { notifier.status($0) })
        let ready = ReadyGate()
        let haService = HALoopService(loop: loop, instance: instance, box: box, wakeup: wakeup, ready: ready, notifier: notifier,
                                      logger: logger)
        let control = AgentControl(store: store, probe: probe, loop: loop, instance: instance)
        let built = Result {
            try RestServer(source: box, control: control, access: AccessControl(setup.configuration.restAPI))
                .application(host: setup.restListen.host, port: setup.restListen.port, tls: setup.restTLS,
                             logger: Logger(label: "vigil.rest"))
        }
        guard case let .success(server) = built else {
            if case let .failure(error) = built { logger.critical("\(configPath): restapi: cannot serve TLS: \(error)") }
            return 1
        }
        let restService = GatedService(gate: ready, service: server)
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: restService, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: haService, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        let reloads = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                logger.notice("SIGHUP: reloading the configuration")
                // Run between cycles, as POST /reload is, never in the middle of a demotion.
                _ = await loop.submit(.reload)
            }
        }
        defer { reloads.cancel() }
        do {
            try await group.run()
        } catch {
            logger.critical("\(error)")
            return 1
        }
        if let fatal = await haService.outcome() {
            logger.critical("\(fatal)")
            return 1
        }
        return 0
    }
}

/// Opens once the HA loop's preflight has passed (the REST API must not answer for a member
/// that turns out to be a duplicate).
final class ReadyGate: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func open() {
        continuation.yield()
        continuation.finish()
    }

    func wait() async -> Bool {
        for await _ in stream { return true }
        return false
    }
}

/// A service that starts only when its gate opens, and ends quietly on shutdown before that.
struct GatedService<Wrapped: Service>: Service {
    let gate: ReadyGate
    let service: Wrapped

    func run() async throws {
        let opened = await cancelWhenGracefulShutdown { await gate.wait() }
        guard opened, !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
        try await service.run()
    }
}

/// The HA loop as a Service.
final class HALoopService: Service {
    let loop: HALoop
    let instance: PostgresInstance
    let box: SnapshotBox
    let wakeup: Wakeup
    let ready: ReadyGate
    let notifier: SystemdNotifier
    let logger: Logger
    private let result = ResultBox()

    init(loop: HALoop, instance: PostgresInstance, box: SnapshotBox, wakeup: Wakeup, ready: ReadyGate, notifier: SystemdNotifier,
         logger: Logger) {
        self.loop = loop
        self.instance = instance
        self.box = box
        self.wakeup = wakeup
        self.ready = ready
        self.notifier = notifier
        self.logger = logger
    }

    func outcome() async -> String? { await result.value }

    func run() async throws {
        let loop = self.loop
        await withGracefulShutdownHandler {
            if let refusal = await loop.preflight() {
                // The gate stays shut: the REST API never answers for a refused member.
                await result.set(refusal)
                return
            }
            ready.open()
            notifier.ready()
            let watch = await loop.watchStore()
            let exits = watchPostmaster()
            let fatal = await loop.runCycles()
            notifier.stopping()
            await loop.shutdown()
            watch.cancel()
            exits.cancel()
            await result.set(fatal)
        } onGracefulShutdown: {
            Task { await loop.requestStop() }
        }
    }
}

extension HALoopService {
    /// Sees the postmaster die the moment it does: the health checks stop routing to it and
    /// the loop runs at once.
    func watchPostmaster() -> Task<Void, Never> {
        let exits = instance.unexpectedExits
        let box = self.box
        let wakeup = self.wakeup
        let logger = self.logger
        return Task {
            for await status in exits {
                logger.error("PostgreSQL exited unexpectedly (\(status))")
                box.update { $0.postgres.state = .crashed("\(status)") }
                wakeup.signal()
            }
        }
    }
}

actor ResultBox {
    var value: String?
    func set(_ value: String?) { self.value = value }
}
