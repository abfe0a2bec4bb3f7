// What the broker's operations share: RabbitMQ and the store behind their interfaces, the
// catalog, the configuration they need, locks, and the audit log.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { RequestContext } from '../contract/service-broker.ts';
import type { RabbitManagement } from '../rabbitmq/management-api.ts';
import type { Store } from '../store/store.ts';
import type { ClusterProtocols } from './cluster-protocols.ts';
import type { ServiceCatalog } from './service-catalog.ts';
import type { VhostProtection } from './vhost-protection.ts';

/** How this replica takes part in the coordination kept in the store. */
export interface Coordination {
  /** This process, as recorded on the operations it owns (host:pid:random). */
  owner: string;
  /** An operation's lease; renewed every third of it while the work runs. */
  leaseMs: number;
  /** How long a request waits for a conflicting operation before 422 ConcurrencyError. */
  busyWaitMs: number;
  /** Kept from a synchronous request's budget to undo a failed create before answering. */
  rollbackReserveMs: number;
  /** Budget of work that went asynchronous (202), and of recovery of a dead replica's work. */
  asyncBudgetMs: number;
  /** Kept from the budget to send the 202 in time. */
  answerMarginMs: number;
  /** Retry-After on last_operation while an operation is in progress. */
  pollAfterSeconds: number;
  /** How long after an operation a write it sent may still land: when to look for writes in doubt. */
  inDoubtLookMs: number;
}

/** What the broker needs of the RabbitMQ settings, in its own names (mapped from the configuration in src/app/to-settings.ts). */
export interface RabbitSettings {
  /** Management base URLs of the nodes, without credentials. */
  managementUrls: string[];
  /** The administrator account, granted each new vhost; read at use, as a reload may change it. */
  readonly administrator: { username: string; password: string };
  /** Hosts apps connect to (AMQP, MQTT, STOMP). */
  hosts: string[];
  /** Management base URLs apps and people reach (http_api_uri, dashboards): no credentials, no trailing slash. */
  managementPublicUrls: string[];
  /** The top-level uri uses TLS (amqps) when the cluster offers it. */
  preferTls: boolean;
  /** How long unbind waits for RabbitMQ to report zero connections for the deleted user. */
  unbindConfirmTimeoutMs: number;
  /** RabbitMQ's collect_statistics_interval: how late management statistics can learn of a connection. */
  statisticsIntervalMs: number;
}

/** The budgets and leases of operations, as configured (see docs/replicas.md). */
export interface OperationSettings {
  requestBudgetMs: number;
  asyncBudgetMs: number;
  leaseMs: number;
  busyWaitMs: number;
  rollbackReserveMs: number;
  /** When to look again for writes that landed late; default: one request budget plus one attempt deadline. */
  inDoubtLookMs?: number;
}

export interface BrokerDeps {
  rabbit: RabbitManagement;
  store: Store;
  /** Which warren deployment this is: stamped on every vhost and user it makes (plan-in-rabbitmq.ts). */
  deploymentId: string;
  catalog: ServiceCatalog;
  /** Also the cluster's version once discovered: protocols.facts()?.version. */
  protocols: ClusterProtocols;
  /** Deletion protection of warren's vhosts (RabbitMQ 4.1+); absent in tests that do not need it. */
  vhostProtection?: VhostProtection;
  rabbitSettings: RabbitSettings;
  coordination: Coordination;
  log: Logger;
}

/**
 * This replica's coordination settings, from the configuration. A request warren sent is given
 * up after its attempt deadline, and an operation sends nothing past its budget; a slow path
 * can hold a given-up request about as long again. So unless configured, writes in doubt are
 * looked for one budget plus one attempt deadline after the operation ended.
 */
export function coordinationFrom(o: OperationSettings, attemptTimeoutMs = 5_000): Coordination {
  return {
    owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    leaseMs: o.leaseMs,
    busyWaitMs: o.busyWaitMs,
    rollbackReserveMs: o.rollbackReserveMs,
    asyncBudgetMs: o.asyncBudgetMs,
    answerMarginMs: Math.min(1_000, Math.floor(o.requestBudgetMs / 10)),
    pollAfterSeconds: 2,
    inDoubtLookMs: o.inDoubtLookMs ?? o.requestBudgetMs + attemptTimeoutMs,
  };
}

export const now = () => new Date().toISOString();

/** One line per change, with who asked for it (as the platform says; never trusted for auth). */
export function audit(deps: BrokerDeps, ctx: RequestContext, event: string, fields: Record<string, unknown>): void {
  deps.log.info(
    {
      audit: event,
      ...fields,
      request_identity: ctx.requestIdentity,
      platform: ctx.originatingIdentity?.platform,
      originating_identity: ctx.originatingIdentity?.value,
    },
    event,
  );
}
