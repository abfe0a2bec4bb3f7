// The configuration file's snake_case keys end here: each room gets its settings in its own
// names and shape. (The catalog keeps the file's keys: they are the OSBAPI catalog's wire names.)
import { type Coordination, coordinationFrom, type RabbitSettings } from '../broker/broker-deps.ts';
import type { LoadedConfig } from '../config/config-types.ts';
import type { ListenerLimits } from '../osbapi/osbapi-server.ts';
import type { ManagementClientOptions } from '../rabbitmq/index.ts';

type Account = { username: string; password: string };

/**
 * What the broker reads of the configuration. `administrator` is read at each use: the running
 * broker passes the live account, which a reload may change.
 */
export function brokerSettings(
  config: Pick<LoadedConfig, 'rabbitmq' | 'operations'>,
  administrator: () => Account = () => config.rabbitmq.administrator,
): { rabbitSettings: RabbitSettings; coordination: Coordination } {
  const r = config.rabbitmq;
  const o = config.operations;
  const rabbitSettings: RabbitSettings = {
    managementUrls: r.management_urls,
    get administrator() {
      return administrator();
    },
    hosts: r.hosts,
    managementPublicUrls: r.management_public_urls,
    preferTls: r.prefer_tls,
    unbindConfirmTimeoutMs: r.unbind_confirm_timeout_ms,
    statisticsIntervalMs: r.collect_statistics_interval_ms,
  };
  const operations = {
    requestBudgetMs: o.request_budget_ms,
    asyncBudgetMs: o.async_budget_ms,
    leaseMs: o.lease_ms,
    busyWaitMs: o.busy_wait_ms,
    rollbackReserveMs: o.rollback_reserve_ms,
    ...(o.in_doubt_look_ms === undefined ? {} : { inDoubtLookMs: o.in_doubt_look_ms }),
  };
  return { rabbitSettings, coordination: coordinationFrom(operations, r.pool.attempt_timeout_ms) };
}

/** The management client's pool and probe settings (the URLs and account are given beside them). */
export function managementPoolOptions(r: LoadedConfig['rabbitmq']): Pick<
  ManagementClientOptions,
  'connectionsPerNode' | 'connectTimeoutMs' | 'headersTimeoutMs' | 'bodyTimeoutMs' | 'attemptTimeoutMs' | 'health'
> {
  return {
    connectionsPerNode: r.pool.connections,
    connectTimeoutMs: r.pool.connect_timeout_ms,
    headersTimeoutMs: r.pool.headers_timeout_ms,
    bodyTimeoutMs: r.pool.body_timeout_ms,
    attemptTimeoutMs: r.pool.attempt_timeout_ms,
    health: { probeIntervalMs: r.health.probe_interval_ms, probeMaxDelayMs: r.health.probe_backoff_max_ms },
  };
}

export function listenerLimits(l: LoadedConfig['listener']): ListenerLimits {
  return {
    headersTimeoutMs: l.headers_timeout_ms,
    requestTimeoutMs: l.request_timeout_ms,
    idleTimeoutMs: l.idle_timeout_ms,
    maxHeaderBytes: l.max_header_bytes,
    maxConnections: l.max_connections,
  };
}
