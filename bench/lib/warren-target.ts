// Warren as its own process (testkit/warren-process.ts), plus what the bench needs from
// it: OSBAPI calls through the shared client setup, /metrics, and /proc figures.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startWarrenProcess, type StartOptions, type WarrenProcess } from '../../testkit/warren-process.ts';
import { DEFAULT_SERVICE_ID } from '../../testkit/osb-client.ts';
import { HttpTarget, basic } from './http.ts';
import { performance } from 'node:perf_hooks';
import { cpuSeconds, cpuTimes, rssMb } from './proc.ts';
import type { MemorySample } from './results.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** This checkout's warren: the compiled build as `npm start` runs it (default), or the sources through tsx (--tsx). */
let fromSources = false;
/** --node-flags: node flags for this checkout's compiled warren instead of npm start's. */
let startFlags: string[] | undefined;

/**
 * Call once before starting warren. Compiled (the default): runs `npm run build` first when
 * dist/ is missing or older than a source file, tsconfig or package.json.
 */
export function prepareWarren(opts: { tsx: boolean; nodeFlags?: string[] }, progress: (line: string) => void): void {
  fromSources = opts.tsx;
  startFlags = opts.nodeFlags;
  if (fromSources) return;
  const built = mtimeMs(join(ROOT, 'dist/src/cli/warren.js'));
  const sources = Math.max(
    newestMtimeMs(join(ROOT, 'src')), newestMtimeMs(join(ROOT, 'packages/leakguard/src')),
    ...['package.json', 'tsconfig.json', 'tsconfig.build.json'].map((f) => mtimeMs(join(ROOT, f))),
  );
  if (built >= sources) return;
  progress(built ? 'dist/ is older than the sources: npm run build' : 'no dist/: npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm run build failed (${r.status ?? r.signal}); --tsx runs the sources without a build`);
}

/** How startWarrenProcess runs this checkout (root: another checkout, always its build). */
export function launchOptions(root?: string): Pick<StartOptions, 'root' | 'compiled' | 'startFlags'> {
  if (root) return { root };
  return fromSources ? {} : { compiled: true, ...(startFlags ? { startFlags } : {}) };
}

function mtimeMs(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, mtimeMs(join(e.parentPath, e.name)));
  }
  return newest;
}

export class WarrenTarget {
  readonly osb: HttpTarget;
  readonly metricsHttp: HttpTarget;
  private readonly deleteQuery: string;
  /** OSBAPI operations answered so far (bind, unbind, provision, deprovision). */
  ops = 0;
  /** RSS at the start, after 1,000, 2,000, 5,000 and then every 5,000 operations. */
  readonly memory: MemorySample[] = [];
  private nextSample = 1000;
  private readonly born = performance.now();
  private readonly pending: Array<Promise<void>> = [];

  constructor(readonly proc: WarrenProcess, readonly label: string, readonly logLevel: string, readonly planId: string) {
    const origin = new URL(proc.url).origin;
    this.osb = new HttpTarget(origin, {
      authorization: basic(proc.username, proc.password),
      'x-broker-api-version': '2.17',
      'content-type': 'application/json',
    });
    this.metricsHttp = new HttpTarget(origin);
    this.deleteQuery = `service_id=${DEFAULT_SERVICE_ID}&plan_id=${planId}`;
    // RSS right after the start (operation 0): the figure an idle replica holds.
    const atStart: MemorySample = { ops: 0, rssMb: this.rss(), atS: 0 };
    this.memory.push(atStart);
    this.pending.push(this.addHeap(atStart));
  }

  /** root: another warren checkout to run instead of this one (the baseline arm). */
  static async start(label: string, logLevel: string, planId: string, extraEnv: Record<string, string> = {}, root?: string): Promise<WarrenTarget> {
    const env: Record<string, string> = { ...extraEnv, WARREN_LOG_LEVEL: logLevel };
    const proc = await startWarrenProcess({ env, ...launchOptions(root) });
    return new WarrenTarget(proc, label, logLevel, planId);
  }

  get pid(): number {
    return this.proc.pid;
  }

  cpu(): number {
    return cpuSeconds(this.proc.pid);
  }

  cpuTimes(): { user: number; sys: number } {
    return cpuTimes(this.proc.pid);
  }

  rss(): number {
    return rssMb(this.proc.pid);
  }

  private counted(): void {
    if (++this.ops < this.nextSample) return;
    const s: MemorySample = { ops: this.ops, rssMb: this.rss(), atS: (performance.now() - this.born) / 1000 };
    this.memory.push(s);
    this.pending.push(this.addHeap(s));
    this.nextSample = this.nextSample < 2000 ? 2000 : this.nextSample < 5000 ? 5000 : this.nextSample + 5000;
  }

  /** Heap figures from warren's own /metrics, to tell a JS heap leak from native growth. */
  private async addHeap(s: MemorySample): Promise<void> {
    try {
      const a = await this.metricsHttp.expect([200], 'GET', '/metrics');
      const value = (name: string) => {
        const m = new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(a.text);
        return m ? Number(m[1]) / 2 ** 20 : undefined;
      };
      const used = value('nodejs_heap_size_used_bytes');
      const total = value('nodejs_heap_size_total_bytes');
      const external = value('nodejs_external_memory_bytes');
      if (used !== undefined) s.heapUsedMb = used;
      if (total !== undefined) s.heapTotalMb = total;
      if (external !== undefined) s.externalMb = external;
    } catch {
      /* warren gone: the RSS figure stands alone */
    }
  }

  /** RSS (and heap) now, as a sample at the current operation count; waits for pending heap scrapes. */
  async sampleNow(): Promise<MemorySample> {
    const s: MemorySample = { ops: this.ops, rssMb: this.rss(), atS: (performance.now() - this.born) / 1000 };
    if (this.memory.at(-1)?.ops !== s.ops) {
      this.memory.push(s);
      this.pending.push(this.addHeap(s));
    }
    await Promise.all(this.pending.splice(0));
    return s;
  }

  async provision(instanceId: string): Promise<void> {
    await this.osb.expect([201], 'PUT', `/v2/service_instances/${instanceId}`,
      JSON.stringify({ service_id: DEFAULT_SERVICE_ID, plan_id: this.planId, organization_guid: 'bench-org', space_guid: 'bench-space' }));
    this.counted();
  }

  async deprovision(instanceId: string): Promise<void> {
    await this.osb.expect([200], 'DELETE', `/v2/service_instances/${instanceId}?${this.deleteQuery}`);
    this.counted();
  }

  async bind(instanceId: string, bindingId: string): Promise<void> {
    await this.osb.expect([201], 'PUT', `/v2/service_instances/${instanceId}/service_bindings/${bindingId}`,
      JSON.stringify({ service_id: DEFAULT_SERVICE_ID, plan_id: this.planId }));
    this.counted();
  }

  async unbind(instanceId: string, bindingId: string): Promise<void> {
    await this.osb.expect([200], 'DELETE', `/v2/service_instances/${instanceId}/service_bindings/${bindingId}?${this.deleteQuery}`);
    this.counted();
  }

  /** warren_rabbitmq_management_calls_total by "METHOD template", summed over status codes. */
  async managementCalls(): Promise<Map<string, number>> {
    const a = await this.metricsHttp.expect([200], 'GET', '/metrics');
    const out = new Map<string, number>();
    for (const line of a.text.split('\n')) {
      if (!line.startsWith('warren_rabbitmq_management_calls_total{')) continue;
      const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
      const method = /method="([^"]*)"/.exec(labels)?.[1] ?? '?';
      const path = /path="([^"]*)"/.exec(labels)?.[1] ?? '?';
      const code = /code="([^"]*)"/.exec(labels)?.[1] ?? '?';
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      const key = `${method} ${path}${code.startsWith('2') ? '' : ` [${code}]`}`;
      out.set(key, (out.get(key) ?? 0) + value);
    }
    return out;
  }

  async stop(): Promise<number | null> {
    await Promise.allSettled([this.osb.close(), this.metricsHttp.close()]);
    return this.proc.stop();
  }
}

/** after - before, per key, without zero entries and without the background GET /api/overview. */
export function callDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) {
    if (k.includes('/api/overview')) continue;
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

export const sumValues = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
