// `warren leaks` as an operator runs it (a process of its own; from the sources through tsx, as
// the other tests run warren, so no build is needed) on live
// processes: a slow fd leak and a slow socket-per-peer leak exit 1 naming them, a stable
// keep-alive pool and a clean process exit 0. The leaking processes are the leak guard
// package's own fixtures.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { childEnv, killFixtures, startBodyServer, startFixture, type Fixture } from '../../packages/leakguard/test/helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function warrenLeaks(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/warren.ts', 'leaks', ...args], { cwd: ROOT, env: childEnv(), timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

describe('warren leaks on live processes', { timeout: 90_000 }, () => {
  let url = '';
  let peer = '';
  before(async () => {
    const { port } = await startBodyServer(60_000);
    peer = `127.0.0.1:${port}`;
    url = `http://${peer}/small`;
  });
  after(killFixtures);

  async function running(mode: 'fd-leak' | 'socket-leak' | 'stable-pool' | 'clean'): Promise<Fixture> {
    const f = startFixture('growth-client.mjs', [mode, url]);
    assert.equal(await f.nextLine(), 'ready');
    f.send('go');
    assert.equal(await f.nextLine(), 'started');
    return f;
  }

  test('a file opened every 50 ms: exit 1, "growth: file fds" with its rate', async () => {
    const f = await running('fd-leak');
    const r = await warrenLeaks(['--pid', String(f.pid), '--samples', '5', '--interval', '400ms']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\n {2}growth: file fds \d+ → \d+ over [\d.]+ s \(\+\d+(\.\d)?\/s\)\n/);
  });

  test('a keep-alive agent per request: exit 1, the peer named', async () => {
    const f = await running('socket-leak');
    const r = await warrenLeaks(['--pid', String(f.pid), '--watch', '0.4', '--count', '6']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout.trim().split('\n').at(-1)!, new RegExp(`growing: .*sockets to ${peer.replace(/\./g, '\\.')} \\+[\\d.]+/s`));
  });

  test('a stable keep-alive pool: exit 0', async () => {
    const f = await running('stable-pool');
    const r = await warrenLeaks(['--pid', String(f.pid), '--samples', '5', '--interval', '400ms']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /leaks: none/);
  });

  test('a clean process: exit 0', async () => {
    const f = await running('clean');
    const r = await warrenLeaks(['--pid', String(f.pid)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^pid \d+ \(node\): 3 samples over \d+ ms\n/);
    assert.match(r.stdout, /leaks: none/);
  });

  test('usage errors speak as warren leaks', async () => {
    const r = await warrenLeaks(['--pid']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^warren leaks: --pid needs a value/);
    assert.match(r.stderr, /Usage: warren leaks --pid <N\|self>/);
  });
});
