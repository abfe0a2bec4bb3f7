// The soak's OSBAPI requests, timed and checked against the answer they must get, and the AMQP
// connections opened with a binding's credentials that an unbind or deprovision must kill.
import { DEFAULT_SERVICE_ID, STANDARD_PLAN_ID, type OsbAnswer } from '../../testkit/osb-client.ts';
import { Stop, type SoakRun } from './soak-state.ts';
import { openAmqp, sleep, within, type LiveConnection } from './soak-support.ts';

export const PROVISION_BODY = { service_id: DEFAULT_SERVICE_ID, plan_id: STANDARD_PLAN_ID, organization_guid: 'soak-org', space_guid: 'soak-space' };
export const BIND_BODY = { service_id: DEFAULT_SERVICE_ID, plan_id: STANDARD_PLAN_ID };
export const IDS = `service_id=${DEFAULT_SERVICE_ID}&plan_id=${STANDARD_PLAN_ID}`;
export const instancePath = (id: string) => `/v2/service_instances/${id}`;
export const bindingPath = (instance: string, binding: string) => `/v2/service_instances/${instance}/service_bindings/${binding}`;
const KNOWN_500 = /DELETE \/api\/connections\/username\/\S+ on \S+ answered 500/;

/** One timed OSBAPI request; null (and an unexpected answer) when it failed without an answer. */
export async function call(run: SoakRun, op: string, method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<OsbAnswer | null> {
  if (run.stopReason && run.phase !== 'cleanup') throw new Stop();
  const c = run.client!;
  const started = performance.now();
  try {
    const r = await c.call(method, path, body === undefined ? {} : { body });
    run.requestCount++;
    run.latency(op).add(performance.now() - started);
    return r;
  } catch (err) {
    if (run.stopReason && run.phase !== 'cleanup') throw new Stop();
    run.unexpected(`${op}: ${method} ${path}: request failed: ${(err as Error).message}`);
    return null;
  }
}

/** DELETE of a binding or instance; see retryKnown500 for the one answer that may be repeated. */
export async function remove(run: SoakRun, op: string, path: string): Promise<OsbAnswer | null> {
  const known = run.result.knownIssue;
  let r = await call(run, op, 'DELETE', path);
  for (let tries = 0; r && r.status === 502 && KNOWN_500.test(r.text); tries++) {
    known.count++;
    if (known.examples.length < 5) known.examples.push(`${op} ${path.split('?')[0]}: ${r.text.slice(0, 300)}`);
    if (!run.o.retryKnown500 || tries >= 3) break;
    known.retried++;
    await sleep(20);
    r = await call(run, op, 'DELETE', path);
  }
  return r;
}

/** Checks an answer's status; on a mismatch records it (with the body) and returns false. */
export function expectStatus(run: SoakRun, op: string, r: OsbAnswer | null, status: number): boolean {
  if (!r) return false;
  if (r.status === status) return true;
  run.unexpected(`${op}: expected ${status}, got ${r.status}: ${r.text.slice(0, 300)}`);
  return false;
}

/** Checks a provoked failure: its status and the OSBAPI error shape. */
export function expectFailure(run: SoakRun, kind: string, r: OsbAnswer | null): void {
  const e = run.result.expected[kind]!;
  if (!r) return;
  // OSBAPI: 410 answers are {}, every other error is {"description": ...} (error code optional).
  const shapeOk = r.status === 410 ? r.text.trim() === '{}' : typeof r.body?.description === 'string';
  if (r.status === e.status && shapeOk) {
    e.count++;
    return;
  }
  e.wrong++;
  run.unexpected(`${kind}: expected ${e.status}${r.status === e.status ? ' with an OSBAPI error body' : ''}, got ${r.status}: ${r.text.slice(0, 300)}`);
}

/** Opens an AMQP connection with a binding's credentials, unless maxAmqpConnections are open. */
export async function connectAmqp(run: SoakRun, credentials: unknown): Promise<LiveConnection | undefined> {
  const amqp = run.result.amqp;
  const uri = (credentials as { uri?: unknown } | undefined)?.uri;
  if (typeof uri !== 'string') {
    run.unexpected(`bind: credentials have no uri: ${JSON.stringify(credentials)?.slice(0, 200)}`);
    return undefined;
  }
  if (run.liveAmqp >= run.o.maxAmqpConnections) {
    amqp.skipped++;
    return undefined;
  }
  run.liveAmqp++;
  amqp.maxLive = Math.max(amqp.maxLive, run.liveAmqp);
  try {
    const live = await openAmqp(uri, 10_000);
    run.openConnections.add(live);
    amqp.opened++;
    return live;
  } catch (err) {
    run.liveAmqp--;
    amqp.connectFailed++;
    run.firstConnectError ??= (err as Error).message;
    return undefined;
  }
}

/** After the OSBAPI answer that must have killed it: the connection's 'close' must fire. */
export async function mustBeClosed(run: SoakRun, live: LiveConnection, answeredAt: number, by: string): Promise<void> {
  const amqp = run.result.amqp;
  const closed = await within(live.closed, run.o.amqpCloseTimeoutMs);
  run.openConnections.delete(live);
  run.liveAmqp--;
  if (closed) {
    amqp.killed++;
    amqp.slowestCloseMs = Math.max(amqp.slowestCloseMs, Date.now() - answeredAt);
  } else {
    amqp.survived++;
    run.survivedBy[by] = (run.survivedBy[by] ?? 0) + 1;
    await live.conn.close().catch(() => undefined);
  }
}
