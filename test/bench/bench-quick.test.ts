// The benchmark must keep working: its quick mode runs warren, the minimal broker and the raw API
// side by side, reads every body, and leaves nothing behind in RabbitMQ; its scale part seeds
// warren's store and times RabbitMQ's vhost creation, and cleans up too. Speed is not asserted here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Runs bench/run.ts with `args`; returns its stdout. */
async function bench(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, `bench exited ${code}\n${stderr.slice(-3000)}`);
  return stdout;
}

describe('npm run bench -- --quick', () => {
  it('measures warren, the minimal broker and the raw API, and cleans up', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-bench-'));
    const json = join(dir, 'quick.json');
    try {
      const stdout = await bench(['--quick', '--json', json]);
      assert.match(stdout, /Headline: warren \/ minimal broker/);
      assert.match(stdout, /Bind \+ unbind/);

      const result = JSON.parse(readFileSync(json, 'utf8'));
      assert.equal(result.mode, 'quick');
      const bind = result.scenarios.find((s: { id: string }) => s.id === 'bind-unbind');
      assert.ok(bind, 'the bind/unbind scenario ran');
      for (const row of bind.byConcurrency) {
        for (const arm of ['warren', 'minimal', 'raw']) {
          assert.ok(row.arms[arm].cycles > 0, `${arm} at concurrency ${row.concurrency} made progress`);
          assert.equal(row.arms[arm].errors, 0, `${arm} at concurrency ${row.concurrency} had errors`);
        }
        assert.ok(row.ratio > 0, 'a warren/raw ratio is reported');
        assert.ok(row.arms.minimal.brokerCpuMsPerCycle > 0, 'the minimal broker\'s CPU is measured');
      }
      assert.ok(result.rssAtStart.warren > 0, 'warren\'s RSS after start is measured');
      assert.equal(result.cleanup.leftovers, 0, 'no user or vhost left in RabbitMQ');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--only scale: seeded stores and vhost creation, and cleans up', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-bench-'));
    const json = join(dir, 'scale.json');
    try {
      const stdout = await bench(['--quick', '--only', 'scale', '--scale-sizes', '0,300', '--vhost-levels', '0,5', '--json', json]);
      assert.match(stdout, /Scale: warren's own share/);
      const { scale, cleanup } = JSON.parse(readFileSync(json, 'utf8'));
      const row = scale.byConcurrency[0];
      assert.deepEqual(row.arms.map((a: { arm: string }) => a.arm), ['warren@0', 'warren@300', 'raw']);
      assert.equal(row.arms[1].bindings, 1500, 'the store was seeded with 5 bindings per instance');
      for (const a of row.arms) {
        assert.ok(a.result.cycles > 0, `${a.arm} made progress`);
        assert.equal(a.result.errors, 0, `${a.arm} had errors`);
      }
      assert.deepEqual(scale.vhosts.map((v: { filler: number }) => v.filler), [0, 5]);
      assert.ok(scale.vhosts[1].putVhost.n === 3 && scale.vhosts[1].putVhost.p50 > 0, 'the probes were timed');
      assert.equal(cleanup.leftovers, 0, 'no user or vhost (fillers included) left in RabbitMQ');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
