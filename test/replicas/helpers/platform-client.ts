// A client that behaves as Cloud Foundry's Cloud Controller does towards a broker behind a load
// balancer, so a test can check that everything it touched ends up resolved:
//  - requests go round-robin over the replicas; a refused connection (the request was never
//    sent) goes to the next one, as a load balancer does;
//  - 422 ConcurrencyError: the same request again later (no orphan mitigation, per OSBAPI);
//  - a 5xx or a connection lost mid-request on provision or bind: orphan mitigation, i.e.
//    DELETE until 200 or 410, and the resource counts as not created;
//  - a 5xx or lost connection on a DELETE: the DELETE again.
// Every exchange is logged with the replica that answered, so a test can tell what the live
// replicas said from what the dead one did.
import { setTimeout as sleep } from 'node:timers/promises';
import type { OsbClient } from '../../../testkit/osb-client.ts';
import { histogram, type ReplicaAnswer } from './replica-set.ts';

export interface Route {
  name: string;
  osb: OsbClient;
}

export interface Exchange extends ReplicaAnswer {
  op: string;
  path: string;
  outcome: string;
}

export interface PlatformClientOptions {
  /** The replicas requests may go to (asked before each request). */
  routes: () => Route[];
  /** Give up on a resource (and report it unresolved) after this long. */
  resolveWithinMs: number;
  /** Pause before repeating a request refused with 422 or failed with a 5xx. */
  retryDelayMs?: number;
}

export type Resolution<T> = { ok: true; value: T } | { ok: false; reason: string };

export class PlatformClient {
  readonly log: Exchange[] = [];
  private next = 0;

  constructor(private readonly o: PlatformClientOptions) {}

  /** One exchange: to `pin` if given (first attempt only), else the next route; refused connects move on. */
  private async send(op: string, method: 'PUT' | 'DELETE' | 'GET', path: string, body: unknown, pin?: Route): Promise<Exchange> {
    const routes = this.o.routes();
    for (let attempt = 0; ; attempt++) {
      const route = attempt === 0 && pin ? pin : routes[this.next++ % routes.length]!;
      const t0 = Date.now();
      let ex: Exchange;
      try {
        const answer = await route.osb.call(method, path, body === undefined ? {} : { body });
        const code = answer.body?.error;
        const outcome = answer.status >= 400 && typeof code === 'string' ? `${answer.status} ${code}` : String(answer.status);
        ex = { op, path, replica: route.name, answer, at: Date.now(), ms: Date.now() - t0, outcome };
      } catch (err) {
        const e = err as Error & { code?: string };
        ex = { op, path, replica: route.name, error: e, at: Date.now(), ms: Date.now() - t0, outcome: e.code ?? e.name };
      }
      this.log.push(ex);
      // Never sent: any load balancer tries the next backend.
      if (ex.outcome === 'ECONNREFUSED' && attempt < routes.length * 2) continue;
      return ex;
    }
  }

  private retryable(ex: Exchange): boolean {
    return ex.error !== undefined || (ex.answer !== undefined && (ex.answer.status >= 500 || ex.outcome === '422 ConcurrencyError'));
  }

  /** DELETE until 200 or 410 (orphan mitigation, or a deprovision/unbind the platform insists on). */
  async deleteUntilGone(op: string, path: string, deadline: number, pin?: Route): Promise<Resolution<'gone'>> {
    let ex = await this.send(op, 'DELETE', path, undefined, pin);
    while (this.retryable(ex) && Date.now() < deadline) {
      await sleep(this.o.retryDelayMs ?? 200);
      ex = await this.send(op, 'DELETE', path, undefined);
    }
    if (ex.outcome === '200' || ex.outcome === '410') return { ok: true, value: 'gone' };
    return { ok: false, reason: `${op} ${path}: last answer ${ex.outcome} ${ex.answer?.text ?? ex.error?.message ?? ''}` };
  }

  /**
   * PUT (provision or bind) as a platform does it: `created` with the answer's body on 201/200,
   * `gone` after orphan mitigation for a 5xx or a lost connection.
   */
  async create(op: string, path: string, body: unknown, deleteQuery: string, pin?: Route): Promise<Resolution<{ created: boolean; body: any }>> {
    const deadline = Date.now() + this.o.resolveWithinMs;
    let ex = await this.send(op, 'PUT', path, body, pin);
    while (ex.outcome === '422 ConcurrencyError' && Date.now() < deadline) {
      await sleep(this.o.retryDelayMs ?? 200);
      ex = await this.send(op, 'PUT', path, body);
    }
    if (ex.outcome === '201' || ex.outcome === '200') return { ok: true, value: { created: true, body: ex.answer!.body } };
    if (ex.error !== undefined || (ex.answer && ex.answer.status >= 500)) {
      const gone = await this.deleteUntilGone(`${op} orphan mitigation`, `${path}?${deleteQuery}`, deadline);
      return gone.ok ? { ok: true, value: { created: false, body: undefined } } : gone;
    }
    return { ok: false, reason: `${op} ${path}: ${ex.outcome} ${ex.answer?.text ?? ''}` };
  }

  async remove(op: string, path: string, pin?: Route): Promise<Resolution<'gone'>> {
    return this.deleteUntilGone(op, path, Date.now() + this.o.resolveWithinMs, pin);
  }

  /** Histogram of outcomes per replica name. */
  histogramByReplica(): Record<string, Record<string, number>> {
    const by = new Map<string, string[]>();
    for (const ex of this.log) by.set(ex.replica, [...(by.get(ex.replica) ?? []), ex.outcome]);
    return Object.fromEntries([...by].sort().map(([k, v]) => [k, histogram(v)]));
  }
}
