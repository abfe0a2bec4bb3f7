// Warren under `node --cpu-prof`. --cpu-prof is not allowed in NODE_OPTIONS and
// test/support/warren-process.ts takes no node flags, so this one process is started here:
// the same command (bin/warren.mjs serve) and environment as that helper, on a port chosen
// up front, ready when /health answers, stopped by SIGTERM to its PID. The profile is written
// when it exits.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WarrenProcess } from '../../test/support/warren-process.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startProfiledWarren(profileDir: string): Promise<WarrenProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-bench-prof-'));
  const username = 'warren-bench';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, 'bin/warren.mjs', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      WARREN_LISTEN: `127.0.0.1:${port}`,
      WARREN_USERNAME: username,
      WARREN_PASSWORD: password,
      WARREN_DATA_DIR: dataDir,
      WARREN_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  child.stdout!.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`profiled warren exited with ${child.exitCode}\n${logs.join('\n')}`);
    try {
      const res = await fetch(`${url}/health`);
      await res.text();
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`profiled warren did not answer /health within 20 s\n${logs.join('\n')}`);
    }
    await sleep(100);
  }
  return {
    url,
    pid: child.pid!,
    username,
    password,
    dataDir,
    logs,
    child,
    async stop() {
      const code = await new Promise<number | null>((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        const kill = setTimeout(() => child.kill('SIGKILL'), 35_000);
        child.once('exit', (c) => {
          clearTimeout(kill);
          resolve(c);
        });
        child.kill('SIGTERM');
      });
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/**
 * The newest main-thread .cpuprofile in the directory. Node writes one per thread
 * (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile); thread 0 is warren itself, thread 1 is
 * the module-loader hooks thread that tsx registers.
 */
export function newestProfile(dir: string): string | undefined {
  const main = readdirSync(dir)
    .filter((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f))
    .sort();
  return main.length ? join(dir, main[main.length - 1]!) : undefined;
}
