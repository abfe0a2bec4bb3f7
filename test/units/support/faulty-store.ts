// A Store for domain unit tests: a real SQLite store in memory (so coordination, leases and
// sealing behave as in production) behind the Store port, with any call made to fail the way a
// database that went away fails, at the moment a test chooses.
import { randomBytes } from 'node:crypto';
import type { ReencryptOptions, ReencryptResult } from '../../../src/store/reencrypt.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import type {
  BeginResult, BindingPatch, FinishedOperation, BindingRecord, InstancePatch, InstanceRecord, OperationPatch, OperationRecord, OperationStart, Store,
} from '../../../src/store/store.ts';
import { StoreUnavailableError } from '../../../src/store/store-errors.ts';
import { CallFaults } from './call-faults.ts';

export type StoreCall = keyof Store;

export class FaultyStore extends CallFaults<StoreCall> implements Store {
  constructor(readonly inner: Store = new SqliteStore({ dataDir: ':memory:', key: randomBytes(32) })) {
    super();
  }

  private pass<T>(method: StoreCall, args: readonly unknown[], run: () => Promise<T>): Promise<T> {
    const err = this.enter(method, args);
    return err ? Promise.reject(err) : run();
  }

  reencryptCredentials(opts?: ReencryptOptions): Promise<ReencryptResult> {
    return this.pass('reencryptCredentials', [opts], () => this.inner.reencryptCredentials(opts));
  }

  open(): Promise<void> {
    return this.pass('open', [], () => this.inner.open());
  }

  close(): Promise<void> {
    return this.pass('close', [], () => this.inner.close());
  }

  ping(): Promise<void> {
    return this.pass('ping', [], () => this.inner.ping());
  }

  getInstance(id: string): Promise<InstanceRecord | undefined> {
    return this.pass('getInstance', [id], () => this.inner.getInstance(id));
  }

  insertInstance(rec: InstanceRecord): Promise<boolean> {
    return this.pass('insertInstance', [rec], () => this.inner.insertInstance(rec));
  }

  updateInstance(id: string, patch: InstancePatch): Promise<void> {
    return this.pass('updateInstance', [id, patch], () => this.inner.updateInstance(id, patch));
  }

  deleteInstance(id: string): Promise<void> {
    return this.pass('deleteInstance', [id], () => this.inner.deleteInstance(id));
  }

  countInstances(): Promise<number> {
    return this.pass('countInstances', [], () => this.inner.countInstances());
  }

  listInstances(): Promise<InstanceRecord[]> {
    return this.pass('listInstances', [], () => this.inner.listInstances());
  }

  getBinding(id: string, opts?: { withCredentials?: boolean }): Promise<BindingRecord | undefined> {
    return this.pass('getBinding', [id, opts], () => this.inner.getBinding(id, opts));
  }

  insertBinding(rec: BindingRecord): Promise<boolean> {
    return this.pass('insertBinding', [rec], () => this.inner.insertBinding(rec));
  }

  updateBinding(id: string, patch: BindingPatch): Promise<void> {
    return this.pass('updateBinding', [id, patch], () => this.inner.updateBinding(id, patch));
  }

  deleteBinding(id: string): Promise<void> {
    return this.pass('deleteBinding', [id], () => this.inner.deleteBinding(id));
  }

  listBindings(instanceId: string): Promise<BindingRecord[]> {
    return this.pass('listBindings', [instanceId], () => this.inner.listBindings(instanceId));
  }

  listAllBindings(): Promise<BindingRecord[]> {
    return this.pass('listAllBindings', [], () => this.inner.listAllBindings());
  }

  deploymentId(): Promise<string> {
    return this.pass('deploymentId', [], () => this.inner.deploymentId());
  }

  insertOperation(rec: OperationRecord): Promise<void> {
    return this.pass('insertOperation', [rec], () => this.inner.insertOperation(rec));
  }

  updateOperation(id: string, patch: OperationPatch): Promise<void> {
    return this.pass('updateOperation', [id, patch], () => this.inner.updateOperation(id, patch));
  }

  getOperation(resourceType: 'instance' | 'binding', resourceId: string, operationId?: string): Promise<OperationRecord | undefined> {
    return this.pass('getOperation', [resourceType, resourceId, operationId], () => this.inner.getOperation(resourceType, resourceId, operationId));
  }

  pruneOperations(olderThan: string): Promise<number> {
    return this.pass('pruneOperations', [olderThan], () => this.inner.pruneOperations(olderThan));
  }

  beginOperation(op: OperationStart): Promise<BeginResult> {
    return this.pass('beginOperation', [op], () => this.inner.beginOperation(op));
  }

  renewOperation(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.pass('renewOperation', [id, owner, leaseMs], () => this.inner.renewOperation(id, owner, leaseMs));
  }

  finishOperation(id: string, owner: string, outcome: FinishedOperation): Promise<boolean> {
    return this.pass('finishOperation', [id, owner, outcome], () => this.inner.finishOperation(id, owner, outcome));
  }

  discardOperation(id: string, owner: string): Promise<void> {
    return this.pass('discardOperation', [id, owner], () => this.inner.discardOperation(id, owner));
  }

  abandonOperation(id: string, owner: string): Promise<void> {
    return this.pass('abandonOperation', [id, owner], () => this.inner.abandonOperation(id, owner));
  }

  listAbandonedOperations(limit: number): Promise<OperationRecord[]> {
    return this.pass('listAbandonedOperations', [limit], () => this.inner.listAbandonedOperations(limit));
  }

  takeOverOperation(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.pass('takeOverOperation', [id, owner, leaseMs], () => this.inner.takeOverOperation(id, owner, leaseMs));
  }

  listDueFollowups(limit: number): Promise<OperationRecord[]> {
    return this.pass('listDueFollowups', [limit], () => this.inner.listDueFollowups(limit));
  }

  pendingDoubt(instanceId: string): Promise<boolean> {
    return this.pass('pendingDoubt', [instanceId], () => this.inner.pendingDoubt(instanceId));
  }

  clearFollowups(ids: readonly string[]): Promise<void> {
    return this.pass('clearFollowups', [ids], () => this.inner.clearFollowups(ids));
  }

  rearmFollowup(id: string, followupAt: string, intent: Record<string, unknown> | null): Promise<void> {
    return this.pass('rearmFollowup', [id, followupAt, intent], () => this.inner.rearmFollowup(id, followupAt, intent));
  }

  acquireLease(name: string, holder: string, leaseMs: number): Promise<number | null> {
    return this.pass('acquireLease', [name, holder, leaseMs], () => this.inner.acquireLease(name, holder, leaseMs));
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.pass('releaseLease', [name, holder], () => this.inner.releaseLease(name, holder));
  }
}

/** What the SQLite and PostgreSQL stores throw when the database cannot be reached. */
export const databaseGone = (): StoreUnavailableError => new StoreUnavailableError('the database is unreachable (fake)');
