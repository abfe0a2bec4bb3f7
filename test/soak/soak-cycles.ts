// What the soak's workers do: bind/unbind cycles (every amqpEvery-th with a live AMQP
// connection), now and then a provision/bind/deprovision cycle or a request that must fail
// with a given status, and at the end the cleanup through warren of whatever is still held.
import { randomBytes } from 'node:crypto';
import { OsbClient } from '../../testkit/osb-client.ts';
import { FAILURE_KINDS } from './soak-result.ts';
import {
  BIND_BODY,
  IDS,
  PROVISION_BODY,
  bindingPath,
  call,
  connectAmqp,
  expectFailure,
  expectStatus,
  instancePath,
  mustBeClosed,
  remove,
} from './soak-requests.ts';
import type { Sampler } from './soak-sampler.ts';
import { Stop, type SoakRun } from './soak-state.ts';

async function bindUnbind(run: SoakRun, instance: string, withAmqp: boolean): Promise<void> {
  const binding = run.nextId('b');
  run.liveBindings.set(binding, instance);
  const r = await call(run, 'bind', 'PUT', bindingPath(instance, binding), BIND_BODY);
  if (!expectStatus(run, 'bind', r, 201)) return;
  const live = withAmqp ? await connectAmqp(run, r!.body?.credentials) : undefined;
  const u = await remove(run, 'unbind', `${bindingPath(instance, binding)}?${IDS}`);
  const answeredAt = Date.now();
  if (expectStatus(run, 'unbind', u, 200)) run.liveBindings.delete(binding);
  if (live) await mustBeClosed(run, live, answeredAt, 'unbind');
}

async function provisionCycle(run: SoakRun): Promise<void> {
  const instance = run.nextId('p');
  run.liveInstances.add(instance);
  const p = await call(run, 'provision', 'PUT', instancePath(instance), PROVISION_BODY);
  if (!expectStatus(run, 'provision', p, 201)) return;
  // One binding the platform unbinds first, one (with a live connection) left for deprovision.
  const kept = run.nextId('b');
  run.liveBindings.set(kept, instance);
  const b1 = await call(run, 'bind', 'PUT', bindingPath(instance, kept), BIND_BODY);
  const live = expectStatus(run, 'bind', b1, 201) ? await connectAmqp(run, b1!.body?.credentials) : undefined;
  const other = run.nextId('b');
  run.liveBindings.set(other, instance);
  if (expectStatus(run, 'bind', await call(run, 'bind', 'PUT', bindingPath(instance, other), BIND_BODY), 201)) {
    if (expectStatus(run, 'unbind', await remove(run, 'unbind', `${bindingPath(instance, other)}?${IDS}`), 200)) run.liveBindings.delete(other);
  }
  const d = await remove(run, 'deprovision', `${instancePath(instance)}?${IDS}`);
  const answeredAt = Date.now();
  if (expectStatus(run, 'deprovision', d, 200)) {
    run.liveInstances.delete(instance);
    for (const [b, i] of run.liveBindings) if (i === instance) run.liveBindings.delete(b);
  }
  if (live) await mustBeClosed(run, live, answeredAt, 'deprovision');
  expectFailure(run, 'deprovision-gone', await call(run, 'deprovision-gone', 'DELETE', `${instancePath(instance)}?${IDS}`));
  run.result.cycles.provisionCycles++;
}

async function expectedFailure(run: SoakRun, kind: string, instance: string): Promise<void> {
  switch (kind) {
    case 'provision-unknown-plan': {
      const id = run.nextId('x');
      run.liveInstances.add(id); // in case warren wrongly creates it
      const r = await call(run, kind, 'PUT', instancePath(id), { ...PROVISION_BODY, plan_id: `no-such-plan-${randomBytes(4).toString('hex')}` });
      expectFailure(run, kind, r);
      if (r?.status === 400) run.liveInstances.delete(id);
      return;
    }
    case 'bind-unknown-plan': {
      const binding = run.nextId('x');
      const r = await call(run, kind, 'PUT', bindingPath(instance, binding), { ...BIND_BODY, plan_id: `no-such-plan-${randomBytes(4).toString('hex')}` });
      expectFailure(run, kind, r);
      if (r && r.status !== 400) run.liveBindings.set(binding, instance);
      return;
    }
    case 'bind-conflict': {
      const binding = run.nextId('b');
      run.liveBindings.set(binding, instance);
      if (!expectStatus(run, 'bind', await call(run, 'bind', 'PUT', bindingPath(instance, binding), { ...BIND_BODY, parameters: { soak: 1 } }), 201)) return;
      expectFailure(run, kind, await call(run, kind, 'PUT', bindingPath(instance, binding), { ...BIND_BODY, parameters: { soak: 2 } }));
      if (expectStatus(run, 'unbind', await remove(run, 'unbind', `${bindingPath(instance, binding)}?${IDS}`), 200)) run.liveBindings.delete(binding);
      return;
    }
    case 'unbind-gone': {
      const binding = run.nextId('b');
      run.liveBindings.set(binding, instance);
      if (!expectStatus(run, 'bind', await call(run, 'bind', 'PUT', bindingPath(instance, binding), BIND_BODY), 201)) return;
      if (expectStatus(run, 'unbind', await remove(run, 'unbind', `${bindingPath(instance, binding)}?${IDS}`), 200)) run.liveBindings.delete(binding);
      expectFailure(run, kind, await call(run, kind, 'DELETE', `${bindingPath(instance, binding)}?${IDS}`));
      return;
    }
    case 'deprovision-gone':
      expectFailure(run, kind, await call(run, kind, 'DELETE', `${instancePath(run.nextId('x'))}?${IDS}`));
      return;
    case 'bind-missing-instance': {
      const missing = run.nextId('x');
      const binding = run.nextId('x');
      const r = await call(run, kind, 'PUT', bindingPath(missing, binding), BIND_BODY);
      expectFailure(run, kind, r);
      if (r && r.status !== 404) run.liveBindings.set(binding, missing);
      return;
    }
    case 'provision-foreign-vhost': {
      const r = await call(run, kind, 'PUT', instancePath(run.foreignVhost), PROVISION_BODY);
      expectFailure(run, kind, r);
      return;
    }
    case 'bind-rabbitmq-400': {
      const binding = run.nextId('b');
      const r = await call(run, kind, 'PUT', bindingPath(run.doomedInstance, binding), BIND_BODY);
      expectFailure(run, kind, r);
      if (r && r.status !== 502) run.liveBindings.set(binding, run.doomedInstance);
      return;
    }
    default:
      throw new Error(`unknown failure kind ${kind}`);
  }
}

export async function runCycles(run: SoakRun, sampler: Sampler, count: number, counter: 'warmup' | 'run'): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      if (run.stopReason) return;
      if (Date.now() > run.deadlineAt) {
        run.stop(`hard deadline of ${run.o.deadlineMs} ms reached`);
        return;
      }
      const i = next++;
      if (i >= count) return;
      const instance = run.baseInstances[i % run.baseInstances.length]!;
      try {
        await bindUnbind(run, instance, run.o.amqpEvery > 0 && i % run.o.amqpEvery === run.o.amqpEvery - 1);
        run.result.cycles[counter]++;
        if (run.o.failEvery > 0 && i % run.o.failEvery === Math.floor(run.o.failEvery / 3)) {
          const kind = FAILURE_KINDS[run.failureCounter++ % FAILURE_KINDS.length]!.kind;
          await expectedFailure(run, kind, instance);
        }
        if (run.o.provisionEvery > 0 && i % run.o.provisionEvery === Math.floor(run.o.provisionEvery / 2)) await provisionCycle(run);
      } catch (err) {
        if (err instanceof Stop) return;
        run.unexpected(`cycle ${i}: ${(err as Error).stack ?? String(err)}`);
      }
      sampler.progress();
    }
  };
  await Promise.all(Array.from({ length: run.o.concurrency }, worker));
}

/** Unbinds and deprovisions, through warren, whatever the soak still holds. Bounded. */
export async function cleanupThroughWarren(run: SoakRun, budgetMs: number): Promise<void> {
  const warren = run.warren;
  if (!warren || run.warrenGone || (run.liveBindings.size === 0 && run.liveInstances.size === 0)) return;
  const until = Date.now() + budgetMs;
  run.client ??= new OsbClient({ url: warren.url, username: warren.username, password: warren.password, connections: 8 });
  const c = run.client;
  const watchdog = setTimeout(() => void c.agent.destroy().catch(() => undefined), budgetMs);
  try {
    const bindings = [...run.liveBindings];
    for (let i = 0; i < bindings.length && Date.now() < until; i += 8) {
      await Promise.all(
        bindings.slice(i, i + 8).map(async ([b, inst]) => {
          const r = await remove(run, 'unbind', `${bindingPath(inst, b)}?${IDS}`);
          if (r && (r.status === 200 || r.status === 410)) run.liveBindings.delete(b);
          else if (r && r.status === 404) run.liveBindings.delete(b); // the instance itself is unknown
        }),
      );
    }
    for (const inst of [...run.liveInstances]) {
      if (Date.now() >= until) break;
      const r = await remove(run, 'deprovision', `${instancePath(inst)}?${IDS}`);
      if (r && (r.status === 200 || r.status === 410)) run.liveInstances.delete(inst);
      else if (r) run.unexpected(`cleanup: deprovision ${inst}: ${r.status} ${r.text.slice(0, 200)}`);
    }
  } finally {
    clearTimeout(watchdog);
  }
}
