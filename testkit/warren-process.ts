// Starts warren as its own process (as operators run it), on a free loopback port with a fresh
// data directory, and stops it by PID. The leak tests inspect that process from outside.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = new URL('../', import.meta.url).pathname;

export interface WarrenProcess {
  url: string;
  pid: number;
  username: string;
  password: string;
  dataDir: string;
  /** Log lines seen so far (JSON strings). */
  logs: string[];
  child: ChildProcess;
  /** SIGTERM, wait for exit; returns the exit code. Removes the data directory unless keepData. */
  stop(opts?: { keepData?: boolean }): Promise<number | null>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Extra CLI arguments after `serve`. */
  args?: string[];
  /**
   * A TypeScript entry to run instead of `warren serve` (path from the repository root); it
   * must behave like `warren serve` (e.g. call serve() with overrides for fault injection).
   */
  entry?: string;
  /** Node flags before the script, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/p'] (not allowed in NODE_OPTIONS). */
  nodeArgs?: string[];
  /** Run under `ulimit -n N` (soft and hard). */
  fdLimit?: number;
  /**
   * Lower the fd limit to N (soft and hard, with prlimit) once warren listens. For limits too tiny
   * to start under: module loading opens files in parallel, and ~1 start in 6 met EMFILE at 96.
   */
  fdLimitAfterStart?: number;
  dataDir?: string;
  timeoutMs?: number;
  /**
   * Another warren checkout to run (with its own node_modules), e.g. an older commit for
   * comparison: its `bin/warren.mjs serve` as `compiled` runs it, so it needs `npm run build` first.
   */
  root?: string;
  /**
   * Run the compiled build as operators do (`npm start`: `bin/warren.mjs serve` with the node flags
   * of package.json's start script) instead of the sources through tsx. Needs `npm run build`.
   */
  compiled?: boolean;
  /** With compiled or root: these node flags instead of those of `npm start` (e.g. to try V8 heap flags). */
  startFlags?: string[];
}

/** The node flags of `npm start` in the checkout at root (package.json: `node <flags> bin/warren.mjs serve`). */
export function startScriptNodeFlags(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const words = (pkg.scripts?.start ?? '').split(/\s+/);
  const node = words.indexOf('node');
  const bin = words.indexOf('bin/warren.mjs');
  return node >= 0 && bin > node ? words.slice(node + 1, bin) : [];
}

export async function startWarrenProcess(opts: StartOptions = {}): Promise<WarrenProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'warren-test-'));
  // Replicas of one deployment share their broker credentials: opts.env may set them.
  const username = opts.env?.WARREN_USERNAME ?? 'warren-test';
  const password = opts.env?.WARREN_PASSWORD ?? `pw-${Math.random().toString(36).slice(2)}`;
  const env = {
    ...process.env,
    WARREN_LISTEN: '127.0.0.1:0',
    WARREN_USERNAME: username,
    WARREN_PASSWORD: password,
    WARREN_DATA_DIR: dataDir,
    WARREN_LOG_LEVEL: 'info',
    ...opts.env,
  };
  // By default the TypeScript sources through tsx, so tests need no build (test/build covers the compiled one).
  const compiled = opts.compiled || opts.root !== undefined;
  if (compiled && opts.entry) throw new Error('startWarrenProcess: entry runs through tsx; it cannot be combined with compiled or root');
  const script = compiled
    ? [...(opts.startFlags ?? startScriptNodeFlags(opts.root ?? ROOT)), 'bin/warren.mjs', 'serve']
    : ['--import', 'tsx', ...(opts.entry ? [opts.entry] : ['src/cli/warren.ts', 'serve'])];
  const argv = [...(opts.nodeArgs ?? []), ...script, ...(opts.args ?? [])];
  const child = opts.fdLimit
    ? spawn('bash', ['-c', `ulimit -n ${opts.fdLimit} && exec node ${argv.join(' ')}`], { cwd: opts.root ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, argv, { cwd: opts.root ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const lines = createInterface({ input: child.stdout! });

  const started = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`warren did not start within ${opts.timeoutMs ?? 20000} ms\n${stderr.join('')}\n${logs.join('\n')}`)), opts.timeoutMs ?? 20000);
    lines.on('line', (line) => {
      logs.push(line);
      try {
        const rec = JSON.parse(line) as { msg?: string; listen?: string; scheme?: string };
        if (rec.msg === 'warren is listening' && rec.listen) {
          clearTimeout(timer);
          resolve(`${rec.scheme ?? 'http'}://${rec.listen}`);
        }
      } catch {
        /* not JSON */
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`warren exited with ${code} before listening\n${stderr.join('')}\n${logs.join('\n')}`));
    });
  });
  let url: string;
  try {
    url = await started;
  } catch (err) {
    // Never leave a half-started warren behind: end the child we spawned, by its PID.
    if (child.exitCode === null) child.kill('SIGKILL');
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  if (opts.fdLimitAfterStart !== undefined) {
    const n = opts.fdLimitAfterStart;
    try {
      execFileSync('prlimit', ['--pid', String(child.pid), `--nofile=${n}:${n}`], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
    } catch (err) {
      child.kill('SIGKILL');
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
  }

  return {
    url,
    pid: child.pid!,
    username,
    password,
    dataDir,
    logs,
    child,
    async stop(stopOpts = {}) {
      const code = await new Promise<number | null>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode); // already gone (a kill -9 too)
        const kill = setTimeout(() => child.kill('SIGKILL'), 35_000);
        child.once('exit', (c) => {
          clearTimeout(kill);
          resolve(c);
        });
        child.kill('SIGTERM');
      });
      if (!stopOpts.keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
