// How a recorded operation runs against the request's budget. Synchronously, the work gets the
// budget less a reserve for undoing it, so a failed create can still be rolled back before the
// answer is due; a rollback that cannot finish in time is handed to the recovery job instead of
// holding the answer. With accepts_incomplete=true the work runs detached under a budget of its
// own, and the platform gets 202 when the request's budget runs out first.
import { currentBudget, detached, withBudget } from '../deadline/budget.ts';
import { settledWithin } from '../deadline/settled-within.ts';
import { unavailable } from '../contract/broker-errors.ts';
import type { RequestContext } from '../contract/service-broker.ts';
import type { BrokerDeps } from './broker-deps.ts';
import type { BindingEffect } from '../store/store.ts';
import type { DurableOperation } from './durable-operation.ts';
import { inDoubtLookAt } from './in-doubt-checks.ts';
import { toBrokerError } from './rabbit-failure.ts';

export interface OperationSteps<T> {
  /** Does the work, store writes included (not the operation's own outcome). Idempotent. */
  forward(): Promise<T>;
  /** Undoes a failed forward (creates and updates); absent for deletes, which a retry finishes. */
  rollback?(): Promise<void>;
  /** After a failed forward of a delete: put the resource back in a usable state. */
  restore?(): Promise<void>;
  /** What a failure is called in the answer and in last_operation. */
  failure: string;
  /**
   * The follow-up due after success (the unbind's late look, a look for writes in doubt), told
   * whether a write of the work was left in doubt (sent, never answered); null: none.
   */
  followup?: (writesInDoubt: boolean) => Followup | null;
  /** The change to the operation's binding that success makes, committed with the outcome. */
  effect?: BindingEffect;
  /** When to look for writes in doubt after a rollback (in-doubt-checks.ts). */
  followupAfterRollback?: () => string;
}

export interface Followup {
  at: string;
  /** Recorded with the outcome: what the look will need (e.g. the username). */
  intent?: Record<string, unknown>;
}

export type OperationOutcome<T> = { async: false; value: T } | { async: true };

/** Runs the steps to the end (never throws past a recorded outcome); throws the answer's error. */
async function runToEnd<T>(deps: BrokerDeps, op: DurableOperation, steps: OperationSteps<T>): Promise<T> {
  const budget = currentBudget();
  const total = budget ? budget.remaining() : Number.POSITIVE_INFINITY;
  const reserve = steps.rollback || steps.restore ? Math.min(total * 0.3, deps.coordination.rollbackReserveMs) : 0;
  let value: T;
  let ours: boolean;
  let writesInDoubt = false;
  // A write sent and never answered may still land: the outcome records it (intent.writesInDoubt)
  // with a look for it, and a new provision of the instance waits for that look (pendingDoubt).
  const doubted = (intent: Record<string, unknown> | null | undefined) => (writesInDoubt ? { intent: { ...(intent ?? {}), writesInDoubt: true } } : {});
  try {
    value = Number.isFinite(total)
      ? await withBudget(total - reserve, async (b) => {
          try {
            return await steps.forward();
          } finally {
            writesInDoubt ||= b.writesInDoubt;
          }
        })
      : await steps.forward();
    // Recording success is part of the work: if the record cannot be written, the work is undone
    // like any failed step (or left to recovery, which finds the operation unfinished).
    const followup = steps.followup?.(writesInDoubt) ?? null;
    ours = await op.finish({
      state: 'succeeded', description: null, followupAt: followup?.at ?? null,
      ...(followup?.intent ? { intent: followup.intent } : {}), ...doubted(followup?.intent ?? op.spec.intent),
      ...(steps.effect ? { effect: steps.effect } : {}),
    });
  } catch (err) {
    const answer = toBrokerError(err, steps.failure);
    deps.log.warn({ operation: op.id, kind: op.spec.kind, resource: op.spec.resourceId, err: (err as Error)?.message }, `${steps.failure}; undoing`);
    try {
      if (steps.rollback) await steps.rollback();
      else if (steps.restore) await steps.restore();
      await op.finish({
        state: 'failed', description: `${steps.failure}: ${answer.message}`,
        followupAt: steps.followupAfterRollback?.() ?? (writesInDoubt ? inDoubtLookAt(deps) : null), ...doubted(op.spec.intent),
      });
    } catch (undoErr) {
      deps.log.error(
        { operation: op.id, kind: op.spec.kind, resource: op.spec.resourceId, err: (undoErr as Error)?.message },
        'could not undo a failed operation in time; the recovery job will finish it',
      );
      await op.abandon();
    }
    throw answer;
  }
  // Taken over meanwhile (this replica's lease lapsed): the change to the record was not made,
  // and the replica that took the work over decides the outcome. Success cannot be promised.
  if (!ours && steps.effect) throw unavailable(`${steps.failure}: the operation was taken over by another replica; repeat the request`);
  return value;
}

export async function runOperation<T>(
  deps: BrokerDeps,
  op: DurableOperation,
  ctx: RequestContext,
  steps: OperationSteps<T>,
): Promise<OperationOutcome<T>> {
  if (!ctx.acceptsIncomplete) return { async: false, value: await runToEnd(deps, op, steps) };

  // Detached: the work must outlive this request if it goes async.
  const work = detached(() => withBudget(deps.coordination.asyncBudgetMs, () => runToEnd(deps, op, steps)));
  const left = currentBudget()?.remaining() ?? deps.coordination.asyncBudgetMs;
  const waitMs = Math.max(0, left - deps.coordination.answerMarginMs);
  const first = await settledWithin(work, waitMs);
  if (first.done) {
    if ('error' in first) throw first.error;
    return { async: false, value: first.value };
  }
  // Still running: answer 202 and let the platform poll. If this replica dies now, the recovery
  // job finishes the work (an async create rolls forward).
  work.catch(() => undefined);
  await op.setIntent({ ...(op.spec.intent ?? {}), async: true }).catch((err: Error) =>
    deps.log.warn({ operation: op.id, err: err.message }, 'could not mark the operation asynchronous'),
  );
  deps.log.info({ operation: op.id, kind: op.spec.kind, resource: op.spec.resourceId }, 'operation continues asynchronously');
  return { async: true };
}
