// The composition root: configuration in, a listening broker out. Wires the store, the
// management client, the broker, the OSBAPI server and the health/metrics endpoints.
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { ClusterProtocols } from '../broker/cluster-protocols.ts';
import { recoverAbandoned, runDueFollowups } from '../broker/operation-recovery.ts';
import { catalogProblems, type PolicyProblem } from '../broker/policy-compatibility.ts';
import { VhostProtection } from '../broker/vhost-protection.ts';
import { RabbitServiceBroker } from '../broker/rabbitmq-service-broker.ts';
import { ServiceCatalog } from '../broker/service-catalog.ts';
import type { WarrenConfig } from '../config/config-types.ts';
import { BrokerMetrics } from '../observability/broker-metrics.ts';
import { registerCoordinationMetrics } from '../observability/coordination-metrics.ts';
import { watchServerErrors } from '../observability/emfile-watch.ts';
import { registerHealthRoutes } from '../observability/health-routes.ts';
import { Readiness } from '../observability/readiness.ts';
import { ownSocketGauges } from '../observability/own-sockets.ts';
import { createOsbApiServer } from '../osbapi/osbapi-server.ts';
import { createManagementClient, type ManagementClient, type RabbitManagement } from '../rabbitmq/index.ts';
import { FINDING_KINDS } from '../reconcile/findings.ts';
import { PeriodicReconcile } from '../reconcile/periodic.ts';
import { createStore } from '../store/create-store.ts';
import { parseManagementUrl } from '../rabbitmq/management-url.ts';
import { managementTls } from './management-tls.ts';
import { brokerSettings, listenerLimits, managementPoolOptions } from './to-settings.ts';
import { loadEncryptionKeys } from '../store/encryption-key.ts';
import type { Server as TlsServer } from 'node:tls';
import { BackgroundJobs } from './background-jobs.ts';
import { LiveSettings, type ReloadOutcome } from './live-settings.ts';
import { httpsServerOptions, watchCertificates } from './tls-listener.ts';

export interface RunningWarren {
  /** http(s)://host:port of the OSBAPI server. */
  url: string;
  port: number;
  /** This deployment's id (config deployment_id, else the store's). */
  deploymentId: string;
  /** The drift scan; runs as a background job under the store lease (tests call runOnce()). */
  driftScan: PeriodicReconcile;
  /** Applies a reloaded configuration (broker password, RabbitMQ admin account, encryption keys). */
  reload(next: WarrenConfig): ReloadOutcome;
  /** Stops accepting, drains in-flight requests, then closes the pool and the store. */
  close(): Promise<void>;
}


/** The management client as the app uses it: the broker's interface plus pool stats and close. */
export type AppManagementClient = RabbitManagement & Pick<ManagementClient, 'stats' | 'close' | 'nodeHealth' | 'startProbing'>;

export interface StartOverrides {
  /** Wraps the management client (fault injection in tests, e.g. the soak's deliberately leaky client). */
  wrapRabbit?: (client: AppManagementClient) => AppManagementClient;
}

export async function startWarren(config: WarrenConfig, log: Logger, overrides: StartOverrides = {}): Promise<RunningWarren> {
  const startedAt = performance.now();
  // Read first: unusable certificate files stop the start before anything is opened.
  const https = config.tls ? httpsServerOptions(config.tls) : undefined;
  const keys = loadEncryptionKeys({ key: config.encryption_key, keys: config.encryption_keys, dataDir: config.data_dir });
  if (keys.generated) log.info({ file: keys.generated }, 'generated the credentials encryption key; back it up with the store');
  for (const file of keys.looseFiles) log.warn({ file }, 'encryption key file is readable by others: chmod 600 it');
  const live = new LiveSettings(config, keys);
  const store = createStore(config.store.kind === 'postgres' ? config.store : { kind: 'sqlite', dataDir: config.data_dir }, live.keyring);
  await store.open();

  const rabbitCfg = config.rabbitmq;
  // /ready and /metrics need no auth: there a management node is its position in management_urls.
  const nodes = rabbitCfg.management_urls.map((raw, i) => parseManagementUrl(raw, `rabbitmq.management_urls[${i}]`));
  const nodeIndex = new Map<string, string>();
  nodes.forEach((u, i) => {
    nodeIndex.set(u.origin, String(i));
    nodeIndex.set(u.base, String(i));
  });
  const byIndex = <T extends { node: string }>(x: T): T => ({ ...x, node: nodeIndex.get(x.node) ?? '?' });
  // Assigned below; the client's call hook needs it first.
  let metrics: BrokerMetrics | undefined;
  const realRabbit = createManagementClient({
    urls: rabbitCfg.management_urls,
    credentials: () => live.admin,
    ...managementPoolOptions(rabbitCfg),
    ...(rabbitCfg.management_tls ? { tls: managementTls(rabbitCfg.management_tls) } : {}),
    logger: log.child({ component: 'rabbitmq' }),
    onCall: (e) => metrics?.managementCall(byIndex(e)),
  });
  const rabbit: AppManagementClient = overrides.wrapRabbit ? overrides.wrapRabbit(realRabbit) : realRabbit;

  const sockets = ownSocketGauges(nodes.map((u) => ({ host: u.host, port: u.port })));
  metrics = new BrokerMetrics({
    // Nodes by their position in management_urls: /metrics is unauthenticated.
    pool: () => rabbit.stats().nodes.map((n, i) => ({ ...n, node: String(i) })),
    sockets: () => sockets.byPeerAndState(),
    allSockets: () => sockets.allByPeerAndState(),
    fdsByKind: () => sockets.fdsByKind(),
    nodes: () => rabbit.nodeHealth().map(byIndex),
    counters: () => rabbit.stats().counters,
  });

  // Nothing below waits for RabbitMQ: warren listens at once, learns each node's state from
  // probes and calls, and discovers the cluster (protocols, version) in the background.
  rabbit.startProbing();
  const protocols = new ClusterProtocols(
    rabbit,
    Object.fromEntries(Object.entries(rabbitCfg.protocols).map(([k, v]) => [k, v!.port])),
    log,
  );
  let policyProblems: PolicyProblem[] = [];
  protocols.onDiscovered((facts, first) => {
    const before = policyProblems.length;
    policyProblems = catalogProblems(config.catalog.services, facts.version);
    if (!first && policyProblems.length === before) return;
    for (const p of policyProblems) {
      log.error({ service: p.service, plan: p.plan, policy: p.policy, key: p.key, rabbitmq_version: facts.version }, p.message);
    }
  });
  void protocols.start();
  const vhostProtection = new VhostProtection(rabbit, protocols, rabbitCfg.vhost_deletion_protection, log.child({ component: 'broker' }));

  const catalog = new ServiceCatalog(config.catalog.services);
  // Stamped on every vhost and user this deployment makes: reconcile touches nothing else.
  const deploymentId = config.deployment_id ?? (await store.deploymentId());
  // The broker reads the administrator (whom it grants each new vhost) through this: the live account.
  const { rabbitSettings, coordination } = brokerSettings(config, () => live.admin);
  const deps = {
    rabbit, store, deploymentId, catalog, protocols, vhostProtection, rabbitSettings, coordination, log: log.child({ component: 'broker' }),
  };
  const broker = new RabbitServiceBroker(deps);

  const app = await createOsbApiServer({
    broker,
    requestBudgetMs: config.operations.request_budget_ms,
    credentials: () => live.brokerAuth,
    logger: log,
    ...(https ? { https } : {}),
    authThrottle: { maxFailures: config.auth_throttle.max_failures, windowMs: config.auth_throttle.window_seconds * 1000 },
    onAuthFailure: (outcome) => metrics?.authFailure(outcome),
    onAnswered: (op, status, seconds) => metrics?.osbapiAnswered(op, status, seconds),
    onInternalError: () => metrics?.internalError(),
    limits: listenerLimits(config.listener),
  });
  const readiness = new Readiness({
    nodes: () => rabbit.nodeHealth().map(byIndex),
    plans: () => ({ version: protocols.facts()?.version, problems: policyProblems.map((p) => p.message) }),
    store,
    fds: () => sockets.fdUsage(),
    closeWaitToRabbit: () => sockets.closeWaitCount(),
    fdsByKind: () => sockets.fdsByKind(),
    fdPressure: () => sockets.fdPressure(),
    log: log.child({ component: 'readiness' }),
  });
  registerHealthRoutes(app, { metrics, readiness });

  // Once per deployment, on whichever replica holds the lease: finish what dead replicas left,
  // make the late looks that came due, and prune finished operations past their retention.
  const retentionMs = config.operation_retention_hours * 3_600_000;
  // The drift scan (src/reconcile): report-only unless reconcile.fix.
  const driftScan = new PeriodicReconcile(
    {
      rabbit, store, catalog, deploymentId, log: log.child({ component: 'reconcile' }),
      // The live account: a reload may change it.
      get adminUsername() {
        return live.admin.username;
      },
    },
    {
      intervalMs: config.reconcile.interval_s * 1000,
      fix: config.reconcile.fix,
      onReport: (counts) => metrics?.driftFound(counts, FINDING_KINDS),
      onError: () => metrics?.reconcileFailed(),
    },
  );
  const jobs = new BackgroundJobs(store, coordination.owner, config.operations.background_lease_ms, log.child({ component: 'jobs' }))
    .add('recover-operations', config.operations.recovery_interval_ms, () => recoverAbandoned(deps))
    .add('late-looks', 250, () => runDueFollowups(deps))
    .add('prune-operations', Math.min(retentionMs || 60_000, 600_000), () =>
      store.pruneOperations(new Date(Date.now() - retentionMs).toISOString()));
  if (config.reconcile.interval_s > 0) {
    // The first pass comes one interval after the start, not during it: a scan lists the whole
    // cluster, and a start must answer the platform at once.
    let started = false;
    jobs.add('reconcile', config.reconcile.interval_s * 1000, async () => {
      if (started) await driftScan.runOnce();
      started = true;
    });
  }
  registerCoordinationMetrics(metrics.registry, { lease: () => jobs.status(), owner: coordination.owner });

  try {
    await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (err) {
    protocols.stop();
    await rabbit.close();
    await store.close();
    throw err;
  }
  watchServerErrors(app.server, log);
  const stopWatchingCertificates = config.tls ? watchCertificates(app.server as unknown as TlsServer, config.tls, log) : () => {};
  jobs.start();
  const port = (app.server.address() as AddressInfo).port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  // Always said, whatever the log level: operators and scripts wait for this line.
  const scheme = https ? 'https' : 'http';
  const tls = !config.tls ? 'off' : config.tls.client_ca_file ? 'mutual' : 'on';
  // startup_ms: from startWarren() to listening; it never includes waiting for RabbitMQ.
  log.child({}, { level: 'info' }).info(
    { listen: `${host}:${port}`, scheme, tls, store: config.store.kind, deployment_id: deploymentId, management_nodes: rabbit.stats().nodes.map((n) => n.origin), startup_ms: Math.round(performance.now() - startedAt) },
    'warren is listening',
  );

  let closing: Promise<void> | undefined;
  return {
    url: `${scheme}://${host}:${port}`,
    port,
    deploymentId,
    driftScan,
    reload: (next) => live.apply(next, loadEncryptionKeys({ key: next.encryption_key, keys: next.encryption_keys, dataDir: next.data_dir })),
    close: () =>
      (closing ??= (async () => {
        stopWatchingCertificates();
        protocols.stop();
        await app.close();
        await jobs.stop();
        await driftScan.stop();
        await rabbit.close();
        await store.close();
      })()),
  };
}
