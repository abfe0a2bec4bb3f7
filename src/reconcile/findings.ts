// What a reconcile scan reports: one finding per object that differs between the store and
// RabbitMQ. Kinds are stable names (metrics labels, --json output, documentation).
import type { Logger } from 'pino';
import type { ServiceCatalog } from '../broker/service-catalog.ts';
import type { RabbitManagement } from '../rabbitmq/management-api.ts';
import type { Store } from '../store/store.ts';

export const FINDING_KINDS = [
  'orphan_vhost', // a vhost carrying this deployment's marker that no instance record knows
  'orphan_user', // a user carrying this deployment's tag that no binding record knows
  'missing_vhost', // an instance record whose vhost is gone (or is not this deployment's)
  'missing_user', // a binding record whose user is gone
  'credentials', // a binding user whose password is no longer the stored one
  'user_tags',
  'permissions',
  'topic_permissions',
  'vhost_limits',
  'user_limits',
  'policies',
  'operator_policies',
  'unknown_plan', // a record whose plan is no longer in the catalog: nothing to compare with
] as const;

export type FindingKind = (typeof FINDING_KINDS)[number];

export interface Finding {
  kind: FindingKind;
  /** What the finding is about, in words an operator reads (never a secret). */
  detail: string;
  vhost?: string;
  username?: string;
  instanceId?: string;
  bindingId?: string;
  /** Whether --fix knows how to repair it. */
  fixable: boolean;
}

export interface ReconcileDeps {
  rabbit: RabbitManagement;
  store: Store;
  catalog: ServiceCatalog;
  deploymentId: string;
  /** The administrator account warren uses: it holds full permissions on every instance's vhost. */
  adminUsername: string;
  log: Logger;
}
