// The package on its own: `npm pack` builds it (tsc, no runtime dependencies), the tarball
// installs offline into an empty project, and there its CLI judges live processes and its API
// imports as plain JavaScript. Nothing from the repository is on that project's path.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { PACKAGE_ROOT, childEnv, killFixtures, startFixture, type Fixture } from './helpers.ts';

const run = promisify(execFile);

describe('the packed package, installed on its own', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakguard-pack-'));
  const project = join(dir, 'project');
  let bin = '';

  before(async () => {
    const packed = await run('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: PACKAGE_ROOT, env: childEnv() });
    const { filename, files } = (JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!;
    assert.ok(files.some((f) => f.path === 'dist/bin.js') && files.some((f) => f.path === 'dist/index.d.ts'), 'the build is in the tarball');
    assert.ok(!files.some((f) => f.path.endsWith('.ts') && !f.path.endsWith('.d.ts')), 'no TypeScript sources are needed');
    writeFileSync(join(dir, 'package.json'), '{}'); // keeps npm from walking up to the repository
    await run('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'leakguard-user', version: '1.0.0', type: 'module', private: true }));
    // Offline: the package must need nothing from a registry.
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(dir, filename)], { cwd: project, env: childEnv() });
    bin = join(project, 'node_modules', '.bin', 'leakguard');
  });
  after(async () => {
    await killFixtures();
    rmSync(dir, { recursive: true, force: true });
  });

  test('nothing but the package was installed', () => {
    assert.deepEqual(readdirSync(join(project, 'node_modules')).filter((n) => !n.startsWith('.')), ['@warren']);
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/@warren/leakguard/package.json'), 'utf8'));
    assert.equal(manifest.dependencies, undefined);
  });

  async function leakguard(args: string[]): Promise<{ code: number; stdout: string }> {
    try {
      const { stdout } = await run(bin, args, { cwd: project, env: childEnv() });
      return { code: 0, stdout };
    } catch (err) {
      const e = err as { code?: number; stdout?: string };
      return { code: e.code ?? -1, stdout: e.stdout ?? '' };
    }
  }

  async function fixture(mode: 'fd-leak' | 'clean'): Promise<Fixture> {
    const f = startFixture('growth-client.mjs', [mode, 'http://127.0.0.1:9/']);
    assert.equal(await f.nextLine(), 'ready');
    f.send('go');
    assert.equal(await f.nextLine(), 'started');
    return f;
  }

  test('its CLI: exit 1 naming a slow fd leak, exit 0 on a clean process', async () => {
    const help = await leakguard(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: leakguard --pid <N\|self>/);
    const leaky = await fixture('fd-leak');
    const bad = await leakguard(['--pid', String(leaky.pid), '--samples', '4', '--interval', '300ms']);
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stdout, /growth: file fds \d+ → \d+/);
    const clean = await fixture('clean');
    const good = await leakguard(['--pid', String(clean.pid), '--samples', '3', '--interval', '200ms']);
    assert.equal(good.code, 0, good.stdout);
    assert.match(good.stdout, /leaks: none/);
  });

  test('its API imports as plain JavaScript, without tsx', async () => {
    const script = [
      "import { takeSnapshot, findLeaks, assertNoGrowth, createLeakGuard } from '@warren/leakguard';",
      'const s = takeSnapshot();',
      "if (typeof s.fds.total !== 'number' || !findLeaks([s]).ok) throw new Error('unexpected');",
      'await assertNoGrowth(() => {}, { rounds: 3 });',
      'const g = createLeakGuard({ deadlineMs: 200 }); await g.baseline(); await g.check();',
      "console.log('api ok');",
    ].join('\n');
    writeFileSync(join(project, 'use.mjs'), script);
    const env = childEnv();
    delete env.NODE_OPTIONS; // no tsx loader inherited from the test runner
    const { stdout } = await run(process.execPath, ['use.mjs'], { cwd: project, env });
    assert.equal(stdout.trim(), 'api ok');
  });
});
