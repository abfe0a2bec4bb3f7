// A platform as OSBAPI 2.17 says it behaves (Cloud Controller is the model): it retries,
// starts orphan mitigation (a DELETE) after a 5xx or a timeout on provision and bind, never
// after 422 ConcurrencyError (it just tries again later), polls last_operation after a 202,
// and does not mitigate a failed update. Every answer is recorded with its latency, so a
// scenario can assert that none came past the budget and report what it saw.
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_SERVICE_ID, type OsbAnswer, type OsbClient } from '../../../testkit/osb-client.ts';

export interface AnswerRecord {
  op: string;
  /** HTTP status, or 'no answer' (connection error, warren down) or 'timeout' (our own). */
  status: number | 'no answer' | 'timeout';
  ms: number;
}

export interface PlatformOptions {
  /** The warren to talk to now (it changes across restarts). */
  target: () => OsbClient | undefined;
  /** The platform's own timeout for one answer (OSBAPI platforms: 60 s; here budget + margin). */
  answerTimeoutMs: number;
  /** An operation that has not resolved by then fails the scenario. */
  resolveWithinMs: number;
}

const enc = encodeURIComponent;

export class UnresolvedError extends Error {}

export class Platform {
  readonly answers: AnswerRecord[] = [];
  orphanMitigations = 0;
  retries = 0;
  polls = 0;

  constructor(private readonly o: PlatformOptions) {}

  private async send(op: string, method: 'GET' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<OsbAnswer | null> {
    const client = this.o.target();
    if (!client) {
      await sleep(200);
      return null;
    }
    const t0 = performance.now();
    const signal = AbortSignal.timeout(this.o.answerTimeoutMs);
    try {
      const r = await client.call(method, path, { body, signal });
      this.answers.push({ op, status: r.status, ms: performance.now() - t0 });
      return r;
    } catch {
      const timedOut = signal.aborted;
      this.answers.push({ op, status: timedOut ? 'timeout' : 'no answer', ms: performance.now() - t0 });
      if (!timedOut) await sleep(200); // warren restarting
      return null;
    }
  }

  private deadline(what: string): () => void {
    const end = Date.now() + this.o.resolveWithinMs;
    return () => {
      if (Date.now() > end) throw new UnresolvedError(`${what} did not resolve within ${this.o.resolveWithinMs} ms`);
    };
  }

  private async backoff(): Promise<void> {
    this.retries++;
    await sleep(150 + Math.random() * 250);
  }

  /** Polls last_operation until the operation ends: its state, or 'gone' (410 after a delete). */
  private async poll(kind: string, path: string, operation: string | undefined, check: () => void): Promise<'succeeded' | 'failed' | 'gone'> {
    for (;;) {
      check();
      await sleep(300);
      this.polls++;
      const q = operation ? `?operation=${enc(operation)}` : '';
      const r = await this.send(`poll ${kind}`, 'GET', `${path}/last_operation${q}`);
      if (!r) continue;
      if (r.status === 410) return 'gone';
      if (r.status === 200 && r.body?.state !== 'in progress') return r.body.state;
    }
  }

  async provision(id: string, planId: string): Promise<'created' | 'existed'> {
    const check = this.deadline(`provision ${id}`);
    const path = `/v2/service_instances/${enc(id)}`;
    const body = { service_id: DEFAULT_SERVICE_ID, plan_id: planId, organization_guid: 'org', space_guid: 'space' };
    for (;;) {
      check();
      const r = await this.send('provision', 'PUT', `${path}?accepts_incomplete=true`, body);
      if (r?.status === 201) return 'created';
      if (r?.status === 200) return 'existed';
      if (r?.status === 202) {
        const state = await this.poll('provision', path, r.body?.operation, check);
        if (state === 'succeeded') return 'created';
      } else if (r && r.status < 500 && !(r.status === 422 && r.body?.error === 'ConcurrencyError')) {
        throw new Error(`provision ${id}: ${r.status} ${r.text}`);
      } else if (!r || r.status >= 500) {
        this.orphanMitigations++;
        await this.deprovision(id);
      }
      await this.backoff();
    }
  }

  async update(id: string, planId: string): Promise<void> {
    const check = this.deadline(`update ${id}`);
    const path = `/v2/service_instances/${enc(id)}`;
    for (;;) {
      check();
      const r = await this.send('update', 'PATCH', `${path}?accepts_incomplete=true`, { service_id: DEFAULT_SERVICE_ID, plan_id: planId });
      if (r?.status === 200) return;
      if (r?.status === 202) {
        if ((await this.poll('update', path, r.body?.operation, check)) === 'succeeded') return;
      } else if (r && r.status < 500 && !(r.status === 422 && r.body?.error === 'ConcurrencyError')) {
        throw new Error(`update ${id}: ${r.status} ${r.text}`);
      }
      await this.backoff(); // a failed update is retried, never mitigated
    }
  }

  async deprovision(id: string): Promise<void> {
    const check = this.deadline(`deprovision ${id}`);
    const path = `/v2/service_instances/${enc(id)}`;
    const q = `service_id=${DEFAULT_SERVICE_ID}&plan_id=x`;
    for (;;) {
      check();
      const r = await this.send('deprovision', 'DELETE', `${path}?accepts_incomplete=true&${q}`);
      if (r?.status === 200 || r?.status === 410) return;
      if (r?.status === 202) {
        const state = await this.poll('deprovision', path, r.body?.operation, check);
        if (state !== 'failed') return;
      } else if (r && r.status < 500 && !(r.status === 422 && r.body?.error === 'ConcurrencyError')) {
        throw new Error(`deprovision ${id}: ${r.status} ${r.text}`);
      }
      await this.backoff();
    }
  }

  async bind(instanceId: string, bindingId: string, planId: string): Promise<Record<string, unknown>> {
    const check = this.deadline(`bind ${bindingId}`);
    const path = `/v2/service_instances/${enc(instanceId)}/service_bindings/${enc(bindingId)}`;
    for (;;) {
      check();
      const r = await this.send('bind', 'PUT', path, { service_id: DEFAULT_SERVICE_ID, plan_id: planId });
      if (r?.status === 201 || r?.status === 200) return r.body.credentials as Record<string, unknown>;
      if (r && r.status < 500 && !(r.status === 422 && r.body?.error === 'ConcurrencyError')) {
        throw new Error(`bind ${bindingId}: ${r.status} ${r.text}`);
      }
      if (!r || r.status >= 500) {
        this.orphanMitigations++;
        await this.unbind(instanceId, bindingId);
      }
      await this.backoff();
    }
  }

  async unbind(instanceId: string, bindingId: string): Promise<void> {
    const check = this.deadline(`unbind ${bindingId}`);
    const path = `/v2/service_instances/${enc(instanceId)}/service_bindings/${enc(bindingId)}?service_id=${DEFAULT_SERVICE_ID}&plan_id=x`;
    for (;;) {
      check();
      const r = await this.send('unbind', 'DELETE', path);
      if (r?.status === 200 || r?.status === 410) return;
      if (r && r.status < 500 && !(r.status === 422 && r.body?.error === 'ConcurrencyError')) {
        throw new Error(`unbind ${bindingId}: ${r.status} ${r.text}`);
      }
      await this.backoff();
    }
  }

  /** The slowest answer, and counts by status. */
  figures(): { answers: number; slowestMs: number; byStatus: Record<string, number> } {
    const byStatus: Record<string, number> = {};
    let slowest = 0;
    for (const a of this.answers) {
      byStatus[String(a.status)] = (byStatus[String(a.status)] ?? 0) + 1;
      if (typeof a.status === 'number') slowest = Math.max(slowest, a.ms);
    }
    return { answers: this.answers.length, slowestMs: Math.round(slowest), byStatus };
  }
}

/** One instance's lifecycle: provision, two bindings, plan update, unbind both, deprovision. */
export async function lifecycle(p: Platform, id: string, plans: { small: string; standard: string }): Promise<void> {
  await p.provision(id, plans.small);
  const b1 = `${id}-b1`;
  const b2 = `${id}-b2`;
  await Promise.all([p.bind(id, b1, plans.small), p.bind(id, b2, plans.small)]);
  await p.update(id, plans.standard);
  await p.unbind(id, b1);
  await p.unbind(id, b2);
  await p.deprovision(id);
}
