// What both typed fakes share: a record of every call made through a port, and faults a test
// arms for some calls of one method (the call fails with the fault's error before it does anything).

export interface CallSeen<M extends string> {
  method: M;
  args: readonly unknown[];
}

/** Returns the error the call fails with, or undefined to let it through. */
export type Fault<M extends string> = (call: CallSeen<M>) => Error | undefined;

export class CallFaults<M extends string> {
  /** Every call made, in order. */
  readonly calls: Array<CallSeen<M>> = [];
  private readonly armed: Array<{ method: M; fault: Fault<M>; times: number }> = [];

  /** The next `times` calls of `method` for which `fault` returns an error fail with it (Infinity: all of them). */
  failWhen(method: M, fault: Fault<M>, times = 1): void {
    this.armed.push({ method, fault, times });
  }

  /** The arguments of every call of one method made so far. */
  callsOf(method: M): Array<readonly unknown[]> {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  /** Records a call; returns the error an armed fault chose for it, if any. */
  enter(method: M, args: readonly unknown[]): Error | undefined {
    const call = { method, args };
    this.calls.push(call);
    for (const f of this.armed) {
      if (f.method !== method || f.times <= 0) continue;
      const err = f.fault(call);
      if (err) {
        f.times--;
        return err;
      }
    }
    return undefined;
  }
}
