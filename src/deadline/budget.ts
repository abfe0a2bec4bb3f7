// A request's time budget, carried implicitly (AsyncLocalStorage) from where work starts (an
// OSBAPI request, a background job) down to the one path every outgoing call takes (the
// management funnel, the store). Callers in between never pass it by hand, so no layer can
// forget it: a call made inside withBudget() can never outlive the budget.
import { AsyncLocalStorage } from 'node:async_hooks';

/** The budget ran out before the work finished. */
export class DeadlineExceededError extends Error {
  readonly code = 'DEADLINE_EXCEEDED';
  constructor(message = 'deadline exceeded') {
    super(message);
    this.name = 'DeadlineExceededError';
  }
}

export class Budget {
  #controller: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #writesInDoubt = false;

  /** @param deadline epoch milliseconds (Date.now() scale); never later than the parent's */
  constructor(
    readonly deadline: number,
    private readonly parent?: Budget,
  ) {}

  /**
   * Aborted when the deadline passes (reason: DeadlineExceededError) or a parent is aborted.
   * Made on first use: most work only asks remaining() and never waits on it, and an
   * AbortController with its timer per request is a cost on the hot path.
   */
  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const c = (this.#controller = new AbortController());
    const left = this.deadline - Date.now();
    if (left <= 0) c.abort(new DeadlineExceededError());
    else if (left < 2 ** 31 - 1) {
      this.#timer = setTimeout(() => c.abort(new DeadlineExceededError()), left);
      this.#timer.unref();
    }
    const up = this.parent?.signal;
    if (up?.aborted) c.abort(up.reason);
    else up?.addEventListener('abort', () => c.abort(up.reason), { once: true });
    return c.signal;
  }

  remaining(): number {
    return Math.max(0, this.deadline - Date.now());
  }

  expired(): boolean {
    return Date.now() >= this.deadline || this.#controller?.signal.aborted === true;
  }

  /** Throws DeadlineExceededError (or the abort reason) when the budget is spent. */
  check(): void {
    const reason: unknown = this.#controller?.signal.reason;
    if (this.expired()) throw reason instanceof Error ? reason : new DeadlineExceededError();
  }

  /**
   * A write was sent under this budget whose outcome is unknown (no answer, or one too late): it
   * may still land. Marked up the chain, so whoever started the work learns of it.
   */
  noteWriteInDoubt(): void {
    for (let b: Budget | undefined = this; b && !b.#writesInDoubt; b = b.parent) b.#writesInDoubt = true;
  }

  get writesInDoubt(): boolean {
    return this.#writesInDoubt;
  }

  /** Ends the budget early (e.g. the work it covered is finished); frees the timer. */
  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }
}

const storage = new AsyncLocalStorage<Budget>();

/** The budget of the work in progress, if any. */
export function currentBudget(): Budget | undefined {
  return storage.getStore();
}

/** Milliseconds left in the current budget, capped at `max` (which is the answer without a budget). */
export function timeLeft(max: number): number {
  const b = storage.getStore();
  return b ? Math.min(max, b.remaining()) : max;
}

/**
 * Runs fn under a budget of `ms`, nested inside the current one (a child never outlives its
 * parent). The signal is aborted when time is up; fn decides what that means.
 */
export async function withBudget<T>(ms: number, fn: (budget: Budget) => Promise<T>): Promise<T> {
  const parent = storage.getStore();
  const deadline = Math.min(Date.now() + ms, parent?.deadline ?? Number.POSITIVE_INFINITY);
  const budget = new Budget(deadline, parent);
  try {
    return await storage.run(budget, () => fn(budget));
  } finally {
    budget.dispose();
  }
}

/**
 * Runs fn outside any request's budget: for work that must outlive the request that started
 * it (finishing a durable operation in the background). It should set a budget of its own.
 */
export function detached<T>(fn: () => T): T {
  return storage.exit(fn);
}
