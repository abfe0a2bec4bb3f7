// What the broker's operations share: RabbitMQ and the store behind their interfaces, the
// catalog, the configuration they need, locks, and the audit log.
import type { Logger } from 'pino';
import type { RabbitConfig } from '../config/config-types.ts';
import type { RequestContext } from '../osbapi/service-broker.ts';
import type { RabbitManagement } from '../rabbitmq/management-api.ts';
import type { OperationKind, Store } from '../store/store.ts';
import type { ClusterProtocols } from './cluster-protocols.ts';
import { newOperationId } from './generated-secrets.ts';
import type { KeyedRwLock } from './keyed-rw-lock.ts';
import type { RecentDeletions } from './recent-deletions.ts';
import type { ServiceCatalog } from './service-catalog.ts';

export interface BrokerDeps {
  rabbit: RabbitManagement;
  store: Store;
  /** Which warren deployment this is: stamped on every vhost and user it makes (plan-in-rabbitmq.ts). */
  deploymentId: string;
  catalog: ServiceCatalog;
  protocols: ClusterProtocols;
  rabbitConfig: RabbitConfig;
  locks: KeyedRwLock;
  recentlyUnbound: RecentDeletions;
  log: Logger;
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

/** Keeps the outcome of an operation for last_operation (also after the resource is gone). */
export async function recordOperation(
  deps: BrokerDeps,
  resourceType: 'instance' | 'binding',
  resourceId: string,
  instanceId: string,
  kind: OperationKind,
  state: 'succeeded' | 'failed',
  description: string | null,
): Promise<void> {
  const at = now();
  try {
    await deps.store.insertOperation({
      id: newOperationId(), resourceType, resourceId, instanceId, kind, state, description, createdAt: at, updatedAt: at,
    });
  } catch (err) {
    // The operation itself is done; losing its history must not turn success into failure.
    deps.log.warn({ err: (err as Error).message, resourceType, resourceId, kind }, 'could not record operation');
  }
}
