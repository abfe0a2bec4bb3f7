// The soak's first phases: a foreign vhost in RabbitMQ, warren started under the fd limit with
// a stated pool size, the base instances (and the doomed one whose vhost then vanishes), the
// warm-up, and the quiet baseline that settling compares with.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takeSnapshot } from '../../packages/leakguard/src/index.ts';
import { OsbClient } from '../../testkit/osb-client.ts';
import { startScriptNodeFlags, startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import { runCycles } from './soak-cycles.ts';
import { PROVISION_BODY, call, expectStatus, instancePath } from './soak-requests.ts';
import type { Sampler } from './soak-sampler.ts';
import { Stop, type SoakRun } from './soak-state.ts';
import { readOpenFilesLimit, readRssKb, sleep } from './soak-support.ts';

/** Checks RabbitMQ and creates the vhost warren did not create (its conflict needs RabbitMQ's answer). */
export async function prepareRabbitMQ(run: SoakRun): Promise<void> {
  const overview = await run.admin.call('GET', 'overview');
  if (overview.status !== 200) throw new Error(`RabbitMQ management API at ${run.o.managementUrl} answered ${overview.status}`);
  const fv = await run.admin.call('PUT', `vhosts/${encodeURIComponent(run.foreignVhost)}`, { description: 'created by the soak, not by warren' });
  if (fv.status !== 201 && fv.status !== 204) throw new Error(`creating vhost ${run.foreignVhost}: ${fv.status} ${fv.text}`);
}

/** Starts warren under `ulimit -n fdLimit` with the pool size written in its config, and watches its exit. */
export async function startWarren(run: SoakRun): Promise<WarrenProcess> {
  const { o, mgmtUrl } = run;
  run.configDir = mkdtempSync(join(tmpdir(), 'warren-soak-'));
  const configFile = join(run.configDir, 'warren.yml');
  writeFileSync(configFile, `# written by the soak\nrabbitmq:\n  pool:\n    connections: ${o.poolConnections}\n`);
  const w = await startWarrenProcess({
    fdLimit: o.fdLimit,
    // The heap flags operators run it with (npm start): the RSS bound is about leaks, not V8's sizing.
    nodeArgs: startScriptNodeFlags(new URL('../../', import.meta.url).pathname),
    ...(o.entry ? { entry: o.entry } : {}),
    env: {
      WARREN_CONFIG: configFile,
      WARREN_MANAGEMENT_URLS: `${mgmtUrl.protocol}//${encodeURIComponent(o.adminUser)}:${encodeURIComponent(o.adminPassword)}@${mgmtUrl.host}${mgmtUrl.pathname.replace(/\/+$/, '')}`,
      ...o.env,
    },
  });
  run.warren = w;
  run.result.pid = w.pid;
  w.child.once('exit', (code, signal) => {
    run.warrenGone = true;
    if (!run.stopping) {
      run.fail(`warren (pid ${w.pid}) exited by itself during the ${run.phase} phase (code ${code}, signal ${signal})`);
      run.stop('warren exited');
    }
  });
  const limits = readOpenFilesLimit(w.pid);
  run.result.limits = limits;
  if (limits.soft !== o.fdLimit) run.fail(`warren's soft fd limit is ${limits.soft}, not ${o.fdLimit}: ${limits.line}`);
  await o.onStarted?.({ pid: w.pid, url: w.url });
  return w;
}

/** The just-started snapshot: the baseline until warm-up ends, and the peak fd bound. */
export function takeIdleBaseline(run: SoakRun, w: WarrenProcess): void {
  const idle = takeSnapshot(w.pid);
  run.baseline = idle;
  run.baselineKind = 'idle (warm-up did not finish)';
  run.result.fds.idle = idle.fds?.total ?? null;
  run.result.rss.idleKb = readRssKb(w.pid);
  if (idle.fds) run.result.fds.peakBound = idle.fds.total + run.o.poolConnections + run.o.concurrency + run.o.fdSlack;
}

/** Stops the run at the hard deadline and aborts the requests in flight. */
export function armDeadline(run: SoakRun): NodeJS.Timeout {
  return setTimeout(
    () => {
      run.stop(`hard deadline of ${run.o.deadlineMs} ms reached`);
      void run.dropClient();
    },
    Math.max(0, run.deadlineAt - Date.now()),
  );
}

/** The base instances the cycles spread over, and the doomed one whose vhost then goes away behind warren's back. */
export async function provisionInstances(run: SoakRun, w: WarrenProcess): Promise<void> {
  run.client = new OsbClient({ url: w.url, username: w.username, password: w.password, connections: run.o.concurrency });
  for (const id of [...run.baseInstances, run.doomedInstance]) {
    run.liveInstances.add(id);
    if (!expectStatus(run, 'provision', await call(run, 'provision', 'PUT', instancePath(id), PROVISION_BODY), 201)) {
      throw new Error(`could not provision ${id}: ${run.result.unexpected.examples.at(-1)}`);
    }
  }
  // Binds to the doomed instance then meet RabbitMQ 400s.
  const dv = await run.admin.call('DELETE', `vhosts/${encodeURIComponent(run.doomedInstance)}`);
  if (dv.status !== 204) throw new Error(`deleting vhost ${run.doomedInstance}: ${dv.status} ${dv.text}`);
}

/** Warm-up cycles, then a quiet moment without OSBAPI connections for the post-warm-up baseline. */
export async function warmUpAndTakeBaseline(run: SoakRun, sampler: Sampler, w: WarrenProcess): Promise<void> {
  run.enterPhase('warm-up');
  await runCycles(run, sampler, run.o.warmupCycles, 'warmup');
  if (run.stopReason) throw new Stop();
  run.enterPhase('quiet');
  await run.client?.close(); // our keep-alive sockets go, so the baseline holds no OSBAPI connections
  run.client = undefined;
  for (let i = 0; i < 50; i++) {
    const s = takeSnapshot(w.pid);
    if (!s.sockets.some((x) => x.direction === 'in')) break;
    await sleep(100);
  }
  run.baseline = takeSnapshot(w.pid);
  run.baselineKind = 'post-warm-up';
  run.result.fds.baseline = run.baseline.fds?.total ?? null;
  run.result.rss.baselineKb = readRssKb(w.pid);
  sampler.sampleOnce();
}
