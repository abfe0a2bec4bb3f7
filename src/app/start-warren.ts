// The composition root: configuration in, a listening broker out. Wires the store, the
// management client, the broker, the OSBAPI server and the health/metrics endpoints.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ClusterProtocols } from '../broker/cluster-protocols.ts';
import { KeyedRwLock } from '../broker/keyed-rw-lock.ts';
import { RecentDeletions } from '../broker/recent-deletions.ts';
import { RabbitServiceBroker } from '../broker/rabbitmq-service-broker.ts';
import { ServiceCatalog } from '../broker/service-catalog.ts';
import type { WarrenConfig } from '../config/config-types.ts';
import { BrokerMetrics } from '../observability/broker-metrics.ts';
import { watchServerErrors } from '../observability/emfile-watch.ts';
import { registerHealthRoutes } from '../observability/health-routes.ts';
import { Readiness } from '../observability/readiness.ts';
import { ownSocketGauges } from '../observability/own-sockets.ts';
import { createOsbApiServer } from '../osbapi/osbapi-server.ts';
import { createManagementClient, type ManagementClient, type RabbitManagement } from '../rabbitmq/index.ts';
import { FINDING_KINDS } from '../reconcile/findings.ts';
import { PeriodicReconcile } from '../reconcile/periodic.ts';
import { createStore } from '../store/create-store.ts';
import { loadEncryptionKey } from '../store/encryption-key.ts';

export interface RunningWarren {
  /** http://host:port of the OSBAPI server. */
  url: string;
  port: number;
  /** This deployment's id (config deployment_id, else the store's). */
  deploymentId: string;
  /** The periodic drift scan (tests call runOnce()). */
  driftScan: PeriodicReconcile;
  /** Stops accepting, drains in-flight requests, then closes the pool and the store. */
  close(): Promise<void>;
}

function managementTls(t: NonNullable<WarrenConfig['rabbitmq']['management_tls']>) {
  return {
    rejectUnauthorized: t.reject_unauthorized,
    ...(t.ca_file ? { ca: readFileSync(t.ca_file) } : {}),
    ...(t.server_name ? { servername: t.server_name } : {}),
  };
}

/** The management client as the app uses it: the broker's interface plus pool stats and close. */
export type AppManagementClient = RabbitManagement & Pick<ManagementClient, 'stats' | 'close'>;

export interface StartOverrides {
  /** Wraps the management client (fault injection in tests, e.g. the soak's deliberately leaky client). */
  wrapRabbit?: (client: AppManagementClient) => AppManagementClient;
}

export async function startWarren(config: WarrenConfig, log: Logger, overrides: StartOverrides = {}): Promise<RunningWarren> {
  const key = loadEncryptionKey({ key: config.encryption_key, dataDir: config.data_dir });
  if (key.source === 'generated') log.info({ file: key.path }, 'generated the credentials encryption key; back it up with the store');
  if (key.looseFilePermissions) log.warn({ file: key.path }, 'encryption key file is readable by others: chmod 600 it');
  const store = createStore(config.store.kind === 'postgres' ? config.store : { kind: 'sqlite', dataDir: config.data_dir }, key.key);
  await store.open();

  const rabbitCfg = config.rabbitmq;
  // Assigned below; the client's call hook needs it first.
  let metrics: BrokerMetrics | undefined;
  const realRabbit = createManagementClient({
    urls: rabbitCfg.management_urls,
    username: rabbitCfg.administrator.username,
    password: rabbitCfg.administrator.password,
    connectionsPerNode: rabbitCfg.pool.connections,
    connectTimeoutMs: rabbitCfg.pool.connect_timeout_ms,
    headersTimeoutMs: rabbitCfg.pool.headers_timeout_ms,
    bodyTimeoutMs: rabbitCfg.pool.body_timeout_ms,
    ...(rabbitCfg.management_tls ? { tls: managementTls(rabbitCfg.management_tls) } : {}),
    logger: log.child({ component: 'rabbitmq' }),
    onCall: (e) => metrics?.managementCall(e),
  });
  const rabbit: AppManagementClient = overrides.wrapRabbit ? overrides.wrapRabbit(realRabbit) : realRabbit;

  const nodePorts = rabbitCfg.management_urls.map((u) => {
    const url = new URL(u);
    return { host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
  });
  const sockets = ownSocketGauges(nodePorts);
  metrics = new BrokerMetrics({
    pool: () => rabbit.stats().nodes.map((n) => ({ ...n, node: n.origin })),
    sockets: () => sockets.byPeerAndState(),
  });

  const protocols = new ClusterProtocols(
    rabbit,
    Object.fromEntries(Object.entries(rabbitCfg.protocols).map(([k, v]) => [k, v!.port])),
    log,
  );
  await protocols.start();

  const catalog = new ServiceCatalog(config.catalog.services);
  // Stamped on every vhost and user this deployment makes: reconcile touches nothing else.
  const deploymentId = config.deployment_id ?? (await store.deploymentId());
  const locks = new KeyedRwLock();
  const broker = new RabbitServiceBroker({
    rabbit, store, deploymentId, catalog, protocols, rabbitConfig: rabbitCfg, locks, recentlyUnbound: new RecentDeletions(), log: log.child({ component: 'broker' }),
  });
  // The periodic drift scan. With several replicas on one PostgreSQL, one of them should run it
  // (a background-job lease calling driftScan.runOnce()); until then every process runs its own.
  const driftScan = new PeriodicReconcile(
    { rabbit, store, catalog, deploymentId, adminUsername: rabbitCfg.administrator.username, locks, log: log.child({ component: 'reconcile' }) },
    {
      intervalMs: config.reconcile.interval_s * 1000,
      fix: config.reconcile.fix,
      onReport: (counts) => metrics?.driftFound(counts, FINDING_KINDS),
      onError: () => metrics?.reconcileFailed(),
    },
  );

  const app = await createOsbApiServer({
    broker,
    credentials: { username: config.auth.username, password: config.auth.password },
    logger: log,
    onAnswered: (op, status, seconds) => metrics?.osbapiAnswered(op, status, seconds),
    onInternalError: () => metrics?.internalError(),
    limits: {
      headersTimeoutMs: config.listener.headers_timeout_ms,
      requestTimeoutMs: config.listener.request_timeout_ms,
      idleTimeoutMs: config.listener.idle_timeout_ms,
      maxHeaderBytes: config.listener.max_header_bytes,
      maxConnections: config.listener.max_connections,
    },
  });
  const readiness = new Readiness({
    rabbit: () => rabbit.overview(),
    store,
    fds: () => sockets.fdUsage(),
    closeWaitToRabbit: () => sockets.closeWaitCount(),
  });
  registerHealthRoutes(app, { metrics, readiness });

  // Finished operations are kept for last_operation (after a delete too), then pruned.
  const retentionMs = config.operation_retention_hours * 3_600_000;
  const prune = setInterval(() => {
    store.pruneOperations(new Date(Date.now() - retentionMs).toISOString()).catch((err: Error) => log.warn({ err: err.message }, 'pruning operations failed'));
  }, Math.min(retentionMs || 60_000, 600_000));
  prune.unref();

  try {
    await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (err) {
    clearInterval(prune);
    protocols.stop();
    await rabbit.close();
    await store.close();
    throw err;
  }
  watchServerErrors(app.server, log);
  driftScan.start();
  const port = (app.server.address() as AddressInfo).port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  // Always said, whatever the log level: operators and scripts wait for this line.
  log.child({}, { level: 'info' }).info({ listen: `${host}:${port}`, store: config.store.kind, deployment_id: deploymentId, management_nodes: rabbit.stats().nodes.map((n) => n.origin) }, 'warren is listening');

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    deploymentId,
    driftScan,
    close: () =>
      (closing ??= (async () => {
        clearInterval(prune);
        protocols.stop();
        await driftScan.stop();
        await app.close();
        await rabbit.close();
        await store.close();
      })()),
  };
}
