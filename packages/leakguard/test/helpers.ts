// Child-process plumbing for the leak-guard tests: start fixtures, read their line protocol,
// and kill every child by PID when a file's tests end.
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** The package's own folder (packages/leakguard): the children's working directory. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../', import.meta.url));

const live = new Map<number, ChildProcess>();

export interface Fixture {
  pid: number;
  child: ChildProcess;
  /** Next stdout line; rejects after timeoutMs or if the child exits first. */
  nextLine(timeoutMs?: number): Promise<string>;
  send(line: string): void;
}

/** Environment for children: without node:test's marker, so a child is never mistaken for a test file. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

export function startFixture(file: string, args: string[] = [], env: Record<string, string> = {}): Fixture {
  const child = spawn(process.execPath, [FIXTURES + file, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: childEnv(env),
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${file}`);
  live.set(pid, child);
  child.on('exit', () => live.delete(pid));
  const queued: string[] = [];
  const waiting: Array<(line: string | null) => void> = [];
  const lines = readline.createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else queued.push(line);
  });
  lines.on('close', () => {
    for (const w of waiting.splice(0)) w(null);
  });
  return {
    pid,
    child,
    send: (line) => child.stdin!.write(line + '\n'),
    nextLine: async (timeoutMs = 10_000) => {
      const ready = queued.shift();
      if (ready !== undefined) return ready;
      let timer: NodeJS.Timeout | undefined;
      const line = await Promise.race([
        new Promise<string | null>((resolve) => waiting.push(resolve)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${file} (pid ${pid}): no output within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
      if (line === null) throw new Error(`${file} (pid ${pid}) exited before printing a line`);
      return line;
    },
  };
}

/** Kills every fixture still running, by PID, and waits (bounded) for them to go. */
export async function killFixtures(): Promise<void> {
  for (const pid of live.keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 50 && live.size > 0; i++) await sleep(20);
}

export async function startBodyServer(keepAliveMs = 1000): Promise<{ server: Fixture; port: number }> {
  const server = startFixture('body-server.mjs', [], { KEEP_ALIVE_MS: String(keepAliveMs) });
  const { port } = JSON.parse(await server.nextLine()) as { port: number };
  return { server, port };
}

export type ClientMode = 'fetch' | 'undici' | 'http';

/** A client fixture that has started and waits for "go" (so a baseline can be taken first). */
export async function startClient(mode: ClientMode, url: string, n: number, consume = false): Promise<Fixture> {
  const client = startFixture('body-client.mjs', [mode, url, String(n), consume ? 'consume' : '']);
  const line = await client.nextLine();
  if (line !== 'ready') throw new Error(`client said ${line}`);
  return client;
}

/** Lets a waiting client make its requests; resolves when all are answered. */
export async function runClient(client: Fixture): Promise<{ ok: number; failed: number }> {
  client.send('go');
  return JSON.parse(await client.nextLine(20_000)) as { ok: number; failed: number };
}

/**
 * Polls `probe` until it returns a value other than undefined, or throws after timeoutMs with
 * `status()` (what was seen last) in the message.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined,
  { timeoutMs = 10_000, intervalMs = 100, status }: { timeoutMs?: number; intervalMs?: number; status?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${status ? `; last seen: ${status()}` : ''}`);
    await sleep(intervalMs);
  }
}

/** Collects what a CLI run writes. */
export function captureIo(): { io: { stdout: { write(t: string): boolean }; stderr: { write(t: string): boolean } }; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (t: string) => ((out += t), true) },
      stderr: { write: (t: string) => ((err += t), true) },
    },
    out: () => out,
    err: () => err,
  };
}
