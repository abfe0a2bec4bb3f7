// An operation recorded in the store before RabbitMQ is touched, with this replica as owner and
// a lease kept alive by a heartbeat. The record serializes work on a resource across every
// process sharing the store, and tells a live replica what to finish if this one dies.
import { setTimeout as sleep } from 'node:timers/promises';
import { timeLeft } from '../deadline/budget.ts';
import { concurrencyError } from '../contract/broker-errors.ts';
import type { BeginRows, FinishedOperation, OperationKind, OperationRecord, OperationStart } from '../store/store.ts';
import type { BrokerDeps } from './broker-deps.ts';
import { newOperationId } from './generated-secrets.ts';

export interface OperationSpec {
  resourceType: 'instance' | 'binding';
  resourceId: string;
  instanceId: string;
  kind: OperationKind;
  intent: Record<string, unknown> | null;
}

/** What begin also does in its transaction (see OperationStart). */
export type BeginOptions = Pick<OperationStart, 'bindingState' | 'withCredentials'>;

export class DurableOperation {
  #heartbeat: NodeJS.Timeout | undefined;
  #lost = false;

  constructor(
    private readonly deps: BrokerDeps,
    readonly id: string,
    readonly spec: OperationSpec,
    /** What begin read under the lock (recovery, which takes over, reads for itself: empty). */
    readonly rows: BeginRows = { instance: undefined, binding: undefined },
  ) {}

  /** True once a renewal found the operation no longer ours (another replica took it over). */
  get lost(): boolean {
    return this.#lost;
  }

  /** Renews the lease every third of its length until the operation ends. */
  keepAlive(): this {
    const { leaseMs } = this.deps.coordination;
    this.#heartbeat = setInterval(() => {
      this.deps.store.renewOperation(this.id, this.deps.coordination.owner, leaseMs).then(
        (ours) => {
          if (!ours) {
            this.#lost = true;
            this.stop();
          }
        },
        (err: Error) => this.deps.log.warn({ operation: this.id, err: err.message }, 'renewing an operation lease failed'),
      );
    }, Math.max(100, Math.floor(leaseMs / 3)));
    this.#heartbeat.unref();
    return this;
  }

  stop(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /** Records the outcome; false (and a warning) when another replica had taken the operation over. */
  async finish(outcome: FinishedOperation): Promise<boolean> {
    this.stop();
    const ours = await this.deps.store.finishOperation(this.id, this.deps.coordination.owner, outcome);
    if (!ours) this.deps.log.warn({ operation: this.id, kind: this.spec.kind, resource: this.spec.resourceId }, 'operation was taken over by another replica before it finished');
    return ours;
  }

  /** The request changed nothing (identical repeat, refusal): leave no trace. */
  async discard(): Promise<void> {
    this.stop();
    await this.deps.store.discardOperation(this.id, this.deps.coordination.owner);
  }

  /** Leaves the operation in progress with no lease: the recovery job finishes or rolls it back. */
  async abandon(): Promise<void> {
    this.stop();
    await this.deps.store.abandonOperation(this.id, this.deps.coordination.owner).catch((err: Error) =>
      this.deps.log.error({ operation: this.id, err: err.message }, 'could not hand an unfinished operation over; its lease will expire'),
    );
  }

  async setIntent(intent: Record<string, unknown>): Promise<void> {
    await this.deps.store.updateOperation(this.id, { intent });
    this.spec.intent = intent;
  }
}

function describeBlocking(op: OperationRecord): string {
  const what = op.resourceType === 'instance' ? `instance ${op.resourceId}` : `binding ${op.resourceId}`;
  return `another operation (${op.kind} of ${what}) is in progress; try again shortly`;
}

/**
 * Starts an operation, waiting a short while (bounded by the request's budget) for a conflicting
 * one to end; past that, 422 ConcurrencyError, which platforms retry without orphan mitigation.
 */
export async function beginOperation(deps: BrokerDeps, spec: OperationSpec, options: BeginOptions = {}): Promise<DurableOperation> {
  const { owner, leaseMs, busyWaitMs } = deps.coordination;
  const waitUntil = Date.now() + Math.min(busyWaitMs, timeLeft(busyWaitMs * 3) / 3);
  let pause = 20;
  for (;;) {
    const id = newOperationId();
    const r = await deps.store.beginOperation({ id, ...spec, owner, leaseMs, supersededLookMs: deps.coordination.inDoubtLookMs, ...options });
    if (r.started) return new DurableOperation(deps, id, spec, { instance: r.instance, binding: r.binding }).keepAlive();
    if (Date.now() + pause > waitUntil) throw concurrencyError(describeBlocking(r.blocking));
    await sleep(pause);
    pause = Math.min(pause * 2, 250);
  }
}
