// The broker's state, behind one interface: SQLite (default) and PostgreSQL implement it.
// Credentials are handed over in clear and kept encrypted at rest by the implementation.

import type { ReencryptOptions, ReencryptResult } from './reencrypt.ts';

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
  /** The replica working on it while 'in progress' (null once finished). */
  owner: string | null;
  /** The owner's lease: past it, a live replica takes the work over. */
  leaseUntil: string | null;
  /** What the operation is to achieve, so whoever finishes it knows (e.g. target plan, async). */
  intent: Record<string, unknown> | null;
  /** A check still due after the operation finished (the unbind's late look), or null. */
  followupAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** An operation about to start: recorded (with its lease) before RabbitMQ is touched. */
export interface OperationStart {
  id: string;
  resourceType: 'instance' | 'binding';
  resourceId: string;
  instanceId: string;
  kind: OperationKind;
  owner: string;
  leaseMs: number;
  intent: Record<string, unknown> | null;
  /**
   * A binding operation may set its binding's state in the same transaction (an unbind:
   * 'deleting'), where that binding exists in the instance.
   */
  bindingState?: BindingState;
  /** Open the binding's credentials in what begin reads (default false: null). */
  withCredentials?: boolean;
  /**
   * A bind's row, inserted in the same transaction where no binding of that id exists and the
   * instance is ready (or updating) on the row's plan; begin then reads it back as the binding.
   */
  insertBinding?: BindingRecord;
  /**
   * An abandoned operation this one supersedes gets a follow-up this much later, marked
   * writesInDoubt in its intent: what it sent may still land (see broker/in-doubt-checks.ts).
   */
  supersededLookMs: number;
}

/**
 * What a started operation works on, read in the same transaction, after the lock: the instance
 * and, for a binding operation, the binding (each undefined where there is no row).
 */
export interface BeginRows {
  instance: InstanceRecord | undefined;
  binding: BindingRecord | undefined;
}

/** How an operation ended, as finishOperation records it. */
export interface FinishedOperation {
  state: 'succeeded' | 'failed';
  description: string | null;
  /** When a follow-up look is due (see listDueFollowups); absent: none. */
  followupAt?: string | null;
  /** Replaces the operation's intent (what the follow-up needs); absent: kept. */
  intent?: Record<string, unknown>;
  /** The change this outcome makes to the operation's binding. */
  effect?: BindingEffect;
}

/** A change to the operation's binding made with the operation's outcome, in one transaction. */
export type BindingEffect =
  | { bindingId: string; state: BindingState; credentials?: Record<string, unknown> }
  | { bindingId: string; remove: true };

/**
 * started: the operation is recorded and ours. Otherwise `blocking` is the live operation that
 * holds the resource (an instance operation holds the instance and all its bindings; a binding
 * operation holds its binding and shares the instance with other binding operations).
 */
export type BeginResult = ({ started: true } & BeginRows) | { started: false; blocking: OperationRecord };

export type InstancePatch = Partial<Omit<InstanceRecord, 'id' | 'createdAt'>>;
export type BindingPatch = Partial<Omit<BindingRecord, 'id' | 'instanceId' | 'createdAt'>>;
export type OperationPatch = Partial<Pick<OperationRecord, 'state' | 'description' | 'intent'>>;

export interface Store {
  /**
   * Re-seals every binding's credentials not yet sealed with the primary key, in batches,
   * safe beside a running server (see reencrypt.ts).
   */
  reencryptCredentials(opts?: ReencryptOptions): Promise<ReencryptResult>;

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

  // Coordination across every process sharing the store. Each call is atomic on its own; leases
  // are measured by the store's clock, so replicas' clocks need not agree.

  /**
   * Records an operation as 'in progress' with a lease, unless a live operation holds the
   * resource. Conflicting operations whose lease expired (their replica died) are superseded:
   * marked failed, so this request's work takes over what they left, with a follow-up look for
   * their late writes (supersededLookMs).
   */
  beginOperation(op: OperationStart): Promise<BeginResult>;
  /** Extends the lease; false when the operation is no longer ours (finished or taken over). */
  renewOperation(id: string, owner: string, leaseMs: number): Promise<boolean>;
  /**
   * Ends an operation we own, with its follow-up and intent, and applies the outcome's effect to
   * its binding, all in one transaction; false when it was no longer ours (nothing written then).
   */
  finishOperation(id: string, owner: string, outcome: FinishedOperation): Promise<boolean>;
  /** Removes an operation we own that turned out to change nothing (an identical repeat, a refusal). */
  discardOperation(id: string, owner: string): Promise<void>;
  /** Gives the lease up now, leaving the operation 'in progress' for a live replica to finish. */
  abandonOperation(id: string, owner: string): Promise<void>;
  /** Operations 'in progress' whose lease has expired: their replica died or gave them up. */
  listAbandonedOperations(limit: number): Promise<OperationRecord[]>;
  /** Takes an abandoned operation over (new owner and lease); false when someone else did. */
  takeOverOperation(id: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Finished operations whose follow-up is due. */
  listDueFollowups(limit: number): Promise<OperationRecord[]>;
  /**
   * Whether an operation on the instance itself left a write in doubt (intent.writesInDoubt) whose
   * look is still to come: a late DELETE of its vhost could then remove a new one of that name.
   */
  pendingDoubt(instanceId: string): Promise<boolean>;
  /** Clears the follow-ups of these operations (their looks are done), in one write. */
  clearFollowups(ids: readonly string[]): Promise<void>;
  /**
   * Sets the next follow-up of a finished operation (a later look at writes in doubt) and what
   * it is to check, in one write; the operation's state and updated_at stay as they are.
   */
  rearmFollowup(id: string, followupAt: string, intent: Record<string, unknown> | null): Promise<void>;
  /** Acquires or renews a named lease for `holder`; the epoch (rises on each new holder), or null when another holds it. */
  acquireLease(name: string, holder: string, leaseMs: number): Promise<number | null>;
  releaseLease(name: string, holder: string): Promise<void>;
}
