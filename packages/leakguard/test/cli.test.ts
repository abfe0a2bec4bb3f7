// `warren leaks` (runLeaksCli), in-process and as a real process: exit status 1 on a leaky
// pid, 0 on a clean one, 2 on usage errors and uninspectable pids; readable and JSON output.
import assert from 'node:assert/strict';
import { spawn, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { runLeaksCli } from '../src/index.ts';
import { FIXTURES, PACKAGE_ROOT, captureIo, childEnv, killFixtures, runClient, startBodyServer, startClient, type Fixture } from './helpers.ts';

const REQUESTS = 100;

interface ProcessResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as its own process (as `warren leaks` will run); optional hook once it prints. */
function runCliProcess(args: string[], options: SpawnOptions & { onFirstOutput?: (pid: number) => void } = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURES + 'run-leaks-cli.ts', ...args], {
      cwd: PACKAGE_ROOT,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...options,
    });
    let stdout = '';
    let stderr = '';
    let told = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!told && options.onFirstOutput && child.pid !== undefined) {
        told = true;
        options.onFirstOutput(child.pid);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('warren leaks', { timeout: 45_000 }, () => {
  let port = 0;
  let leaky: Fixture;
  let clean: Fixture;
  let server: string;

  before(async () => {
    ({ port } = await startBodyServer(1000));
    server = `127.0.0.1:${port}`;
    leaky = await startClient('undici', `http://${server}/big`, REQUESTS);
    clean = await startClient('undici', `http://${server}/big`, REQUESTS, true);
    await Promise.all([runClient(leaky), runClient(clean)]);
  });
  after(killFixtures);

  test('leaky pid: exit 1 and a table of fds, states, peers and leak classes', async () => {
    const { io, out, err } = captureIo();
    const status = await runLeaksCli(['--pid', String(leaky.pid), '--port', String(port), '--interval', '200'], io);
    assert.equal(status, 1, err());
    const text = out();
    assert.match(text, new RegExp(`^pid ${leaky.pid} \\(node\\): 3 samples over \\d+ ms, port ${port}\\n`));
    assert.match(text, /\nfds: \d+ open, soft limit \d+ \(hard \d+\), [\d.]+% used\n {2}socket \d+ {3}pipe \d+ {3}file \d+ {3}anon_inode \d+ {3}other \d+\n/);
    assert.match(text, new RegExp(`\\ntcp sockets: ${REQUESTS}\\n  by state: `));
    assert.match(text, new RegExp(`\\n    ${server.replace(/\./g, '\\.')}\\s+out\\s+${REQUESTS}\\s`));
    assert.match(text, /\nleaks: (close-wait \d+|stuck-rx \d+|close-wait \d+, stuck-rx \d+)\n/);
    assert.match(text, new RegExp(`\\n  \\d+ (close-wait|stuck-rx) sockets to ${server.replace(/\./g, '\\.')} \\([\\d.]+ [KM]iB unread\\)`));
  });

  test('--json parses and carries the same verdict', async () => {
    const { io, out } = captureIo();
    const status = await runLeaksCli(['--pid', String(leaky.pid), '--port', String(port), '--json', '--interval', '200'], io);
    assert.equal(status, 1);
    const result = JSON.parse(out());
    assert.equal(result.ok, false);
    assert.equal(result.pid, leaky.pid);
    assert.equal(result.fdAccess, 'ok');
    assert.ok(result.fds.socket >= REQUESTS);
    assert.equal(typeof result.limits.soft, 'number');
    assert.equal(result.sockets.byPeer[0].peer, server);
    assert.ok(result.leaks.total >= REQUESTS * 0.95, JSON.stringify(result.leaks.counts));
    for (const g of result.leaks.groups) assert.equal(g.peer, server);
  });

  test('clean pid: exit 0 and "leaks: none"', async () => {
    const { io, out } = captureIo();
    assert.equal(await runLeaksCli(['--pid', String(clean.pid), '--interval', '200'], io), 0);
    assert.match(out(), /\nleaks: none\n/);
  });

  test('as a real process: exit 1 on the leaky pid, 0 on the clean one, JSON on stdout', async () => {
    const [onLeaky, onClean] = await Promise.all([
      runCliProcess(['--pid', String(leaky.pid), '--json', '--interval', '200']),
      runCliProcess(['--pid', String(clean.pid), '--interval', '200']),
    ]);
    assert.equal(onLeaky.status, 1, onLeaky.stderr);
    assert.equal(JSON.parse(onLeaky.stdout).leaks.groups[0].peer, server);
    assert.equal(onClean.status, 0, onClean.stderr);
    assert.match(onClean.stdout, /leaks: none/);
  });

  test('--watch prints one line per sample and stops after --count', async () => {
    const { io, out } = captureIo();
    assert.equal(await runLeaksCli(['--pid', String(leaky.pid), '--port', String(port), '--watch', '0.1', '--count', '3'], io), 1);
    const lines = out().trimEnd().split('\n');
    assert.equal(lines.length, 3);
    for (const line of lines) assert.match(line, /^\d\d:\d\d:\d\d fds \d+\/\d+ socket \d+ \| tcp .+ \| leaks /);
    assert.match(lines[2]!, new RegExp(`leaks (close-wait|stuck-rx) \\d+.*to ${server.replace(/\./g, '\\.')}`));

    const json = captureIo();
    assert.equal(await runLeaksCli(['--pid', String(leaky.pid), '--watch=0.1', '--count', '2', '--json'], json.io), 1);
    const objects = json.out().trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(objects.length, 2);
    assert.equal(objects[1].ok, false);
  });

  test('--watch stops on Ctrl-C (SIGINT)', async () => {
    const started = Date.now();
    const result = await runCliProcess(['--pid', String(clean.pid), '--watch', '5'], {
      onFirstOutput: (pid) => process.kill(pid, 'SIGINT'),
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trimEnd().split('\n').length, 1);
    assert.ok(Date.now() - started < 4000, 'did not wait out the 5 s interval');
  });

  test('usage errors: exit 2, the reason and the usage on stderr', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /--pid is required/],
      [['--pid', 'abc'], /--pid needs an integer/],
      [['--pid', 'self', '--bogus'], /Unknown option '--bogus'/],
      [['--pid', 'self', '--port', 'http'], /--port: not a port/],
      [['--pid', 'self', '--samples', '0'], /--samples needs an integer ≥ 1/],
      [['--pid', 'self', '--count', '2'], /--count only applies with --watch/],
    ];
    for (const [args, reason] of cases) {
      const { io, out, err } = captureIo();
      assert.equal(await runLeaksCli(args, io), 2, args.join(' '));
      assert.match(err(), reason);
      assert.match(err(), /Usage: leakguard --pid/);
      assert.equal(out(), '');
    }
    const help = captureIo();
    assert.equal(await runLeaksCli(['--help'], help.io), 0);
    assert.match(help.out(), /Usage: leakguard --pid <N\|self>/);
  });

  test('--pid self inspects the calling process', async () => {
    const { io, out } = captureIo();
    assert.equal(await runLeaksCli(['--pid', 'self', '--samples', '1', '--json'], io), 0);
    assert.equal(JSON.parse(out()).pid, process.pid);
  });

  test('a pid that does not exist: exit 2, said on stderr', async () => {
    const pidMax = readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim(); // pids stay below it
    const { io, err } = captureIo();
    assert.equal(await runLeaksCli(['--pid', pidMax, '--samples', '1'], io), 2);
    assert.match(err(), new RegExp(`no such process: ${pidMax}`));
  });

  test(
    "another user's process: exit 2 and 'permission denied', never a count of 0",
    { skip: process.getuid?.() !== 0 && 'needs root to run the CLI as another user' },
    async () => {
      const result = await runCliProcess(['--pid', String(leaky.pid), '--json', '--samples', '1'], { uid: 65534, gid: 65534 });
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /\/proc\/\d+\/fd is not readable \(permission denied\)/);
      const json = JSON.parse(result.stdout);
      assert.equal(json.fdAccess, 'denied');
      assert.equal(json.ok, null);
    },
  );
});
