// The broker's state, behind one interface: SQLite (default) and PostgreSQL implement it.
// Credentials are handed over in clear and kept encrypted at rest by the implementation.

export type InstanceState = 'provisioning' | 'ready' | 'updating' | 'deprovisioning' | 'failed';
export type BindingState = 'creating' | 'ready' | 'deleting' | 'failed';
export type OperationState = 'in progress' | 'succeeded' | 'failed';
export type OperationKind = 'provision' | 'update' | 'deprovision' | 'bind' | 'unbind';

export interface InstanceRecord {
  id: string;
  serviceId: string;
  planId: string;
  organizationGuid: string;
  spaceGuid: string;
  /** Request fields kept as given, for idempotency checks and GET instance. */
  parameters: Record<string, unknown> | null;
  context: Record<string, unknown> | null;
  maintenanceInfoVersion: string | null;
  vhost: string;
  dashboardUrl: string | null;
  state: InstanceState;
  createdAt: string; // ISO 8601
  updatedAt: string;
}

export interface BindingRecord {
  id: string;
  instanceId: string;
  serviceId: string;
  planId: string;
  appGuid: string | null;
  bindResource: Record<string, unknown> | null;
  parameters: Record<string, unknown> | null;
  context: Record<string, unknown> | null;
  predecessorBindingId: string | null;
  username: string;
  /** Clear text in memory; encrypted at rest. Null until the user exists in RabbitMQ. */
  credentials: Record<string, unknown> | null;
  state: BindingState;
  createdAt: string;
  updatedAt: string;
}

export interface OperationRecord {
  /** The operation id handed to the platform (also the row key). */
  id: string;
  resourceType: 'instance' | 'binding';
  resourceId: string;
  instanceId: string;
  kind: OperationKind;
  state: OperationState;
  description: string | null;
  createdAt: string;
  updatedAt: string;
}

export type InstancePatch = Partial<Omit<InstanceRecord, 'id' | 'createdAt'>>;
export type BindingPatch = Partial<Omit<BindingRecord, 'id' | 'instanceId' | 'createdAt'>>;
export type OperationPatch = Partial<Pick<OperationRecord, 'state' | 'description'>>;

export interface Store {
  /** Creates tables if needed; call once before use. */
  open(): Promise<void>;
  close(): Promise<void>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;

  getInstance(id: string): Promise<InstanceRecord | undefined>;
  /** false (and nothing written) when the id exists already. */
  insertInstance(rec: InstanceRecord): Promise<boolean>;
  updateInstance(id: string, patch: InstancePatch): Promise<void>;
  /** Removes the instance row (its bindings must be gone first). */
  deleteInstance(id: string): Promise<void>;
  countInstances(): Promise<number>;
  /** Every instance, in any state (reconcile compares them with RabbitMQ). */
  listInstances(): Promise<InstanceRecord[]>;

  /** withCredentials false skips decrypting them (credentials come back null): unbind does not need them. */
  getBinding(id: string, opts?: { withCredentials?: boolean }): Promise<BindingRecord | undefined>;
  /** false (and nothing written) when the id exists already. */
  insertBinding(rec: BindingRecord): Promise<boolean>;
  updateBinding(id: string, patch: BindingPatch): Promise<void>;
  deleteBinding(id: string): Promise<void>;
  listBindings(instanceId: string): Promise<BindingRecord[]>;
  /** Every binding of every instance, credentials left sealed (null): reconcile reads them one by one when it needs them. */
  listAllBindings(): Promise<BindingRecord[]>;

  /**
   * This deployment's id: generated once when the store is first opened, then kept (meta.ts).
   * Every vhost and user warren makes carries it.
   */
  deploymentId(): Promise<string>;

  insertOperation(rec: OperationRecord): Promise<void>;
  updateOperation(id: string, patch: OperationPatch): Promise<void>;
  /** The newest operation on that resource, or the one with that id when given. */
  getOperation(resourceType: 'instance' | 'binding', resourceId: string, operationId?: string): Promise<OperationRecord | undefined>;
  /** Deletes finished operations older than the date; returns how many. */
  pruneOperations(olderThan: string): Promise<number>;
}
