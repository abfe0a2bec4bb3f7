// The benchmark must keep working: its quick mode runs warren and the raw API side by side,
// reads every body, and leaves nothing behind in RabbitMQ. Speed is not asserted here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('npm run bench -- --quick', () => {
  it('measures warren and the raw API, and cleans up', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-bench-'));
    const json = join(dir, 'quick.json');
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--json', json], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 0, `bench exited ${code}\n${stderr.slice(-3000)}`);
      assert.match(stdout, /Bind \+ unbind/);

      const result = JSON.parse(readFileSync(json, 'utf8'));
      assert.equal(result.mode, 'quick');
      const bind = result.scenarios.find((s: { id: string }) => s.id === 'bind-unbind');
      assert.ok(bind, 'the bind/unbind scenario ran');
      for (const row of bind.byConcurrency) {
        for (const arm of ['warren', 'raw']) {
          assert.ok(row.arms[arm].cycles > 0, `${arm} at concurrency ${row.concurrency} made progress`);
          assert.equal(row.arms[arm].errors, 0, `${arm} at concurrency ${row.concurrency} had errors`);
        }
        assert.ok(row.ratio > 0, 'a warren/raw ratio is reported');
      }
      assert.equal(result.cleanup.leftovers, 0, 'no user or vhost left in RabbitMQ');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
