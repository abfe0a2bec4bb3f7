// The production tree as an operator gets it: a copy of the checkout, `npm run build`, then
// `npm prune --omit=dev` (no tsx, no TypeScript). The bin and `npm start` run the compiled
// JavaScript; it serves the catalog within a second of being started, in under 100 MB RSS.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';

const ROOT = new URL('../../', import.meta.url).pathname;
const ATTEMPTS = 3; // the best of three starts: one start can lose the CPU to the rest of the machine

interface Started {
  pid: number;
  msToCatalog: number;
  cpuMs: number;
  rssMb: number;
  stop(): Promise<number | null>;
}

/** `npm start`'s command (node and its flags from package.json), run in `dir`. */
async function startAsNpmStartDoes(dir: string, dataDir: string, password: string): Promise<Started> {
  const [node, ...args] = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts.start as string).split(/\s+/);
  assert.equal(node, 'node', 'npm start runs node directly');
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: { PATH: process.env.PATH, WARREN_LISTEN: '127.0.0.1:0', WARREN_PASSWORD: password, WARREN_DATA_DIR: dataDir, WARREN_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    return exited;
  };
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const listen = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "warren is listening" within 20 s\n${stderr}`)), 20_000);
      createInterface({ input: child.stdout }).on('line', (line) => {
        const rec = JSON.parse(line) as { msg?: string; listen?: string };
        if (rec.msg === 'warren is listening' && rec.listen) {
          clearTimeout(timer);
          resolve(rec.listen);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening\n${stderr}`)));
    });
    const res = await request(`http://${listen}/v2/catalog`, {
      headers: { authorization: `Basic ${Buffer.from(`warren:${password}`).toString('base64')}`, 'x-broker-api-version': '2.17' },
    });
    const catalog = (await res.body.json()) as { services: Array<{ name: string }> };
    const msToCatalog = performance.now() - t0;
    // CPU time the start took (utime + stime in clock ticks of 10 ms): the same on a busy machine.
    const cpuMs = (/^\d+ \(.*?\) (.*)$/.exec(readFileSync(`/proc/${child.pid}/stat`, 'utf8').trim())?.[1] ?? '').split(' ').slice(11, 13).reduce((a, b) => a + Number(b) * 10, 0);
    assert.equal(res.statusCode, 200);
    assert.equal(catalog.services[0]?.name, 'rabbitmq');
    // RSS once serving: after a second of idle, as it stays (start-up garbage collected).
    await new Promise((r) => setTimeout(r, 1000));
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
    return { pid: child.pid as number, msToCatalog, cpuMs, rssMb: rssKb / 1024, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

describe('the compiled build in a pruned tree', { timeout: 300_000 }, () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'warren-pruned-'));
    // A real copy (not hard links): npm prune rewrites files in node_modules in place.
    execFileSync('cp', ['-a', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'src', 'node_modules', dir], { cwd: ROOT });
    // The leak guard package, which warren imports by relative path and compiles with its own.
    execFileSync('mkdir', ['-p', join(dir, 'packages/leakguard')]);
    execFileSync('cp', ['-a', 'packages/leakguard/package.json', 'packages/leakguard/tsconfig.json', 'packages/leakguard/src', join(dir, 'packages/leakguard')], { cwd: ROOT });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('without a build, the bin says to run npm run build', () => {
    const r = spawnSync(process.execPath, ['bin/warren.mjs', '--version'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no compiled build in dist\/: run `npm run build`/);
  });

  it('npm run build compiles, npm prune --omit=dev leaves no dev tooling', () => {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: 'pipe' });
    assert.ok(existsSync(join(dir, 'dist/src/cli/warren.js')));
    execFileSync('npm', ['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'pipe' });
    for (const dev of ['tsx', 'typescript', '@biomejs/biome', 'c8']) assert.ok(!existsSync(join(dir, 'node_modules', dev)), `${dev} pruned`);
    for (const dep of ['fastify', 'better-sqlite3', 'pg', 'yaml']) assert.ok(existsSync(join(dir, 'node_modules', dep)), `${dep} kept`);
    // Nothing the build runs may reach back to the TypeScript sources.
    rmSync(join(dir, 'src'), { recursive: true });
    rmSync(join(dir, 'packages/leakguard/src'), { recursive: true });
  });

  it('the bin answers --version, --help, and a usage error with exit 2', () => {
    const version = spawnSync(process.execPath, ['bin/warren.mjs', '--version'], { cwd: dir, encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const help = spawnSync(process.execPath, ['bin/warren.mjs', 'leaks', '--help'], { cwd: dir, encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: warren leaks --pid/);
    const bad = spawnSync(process.execPath, ['bin/warren.mjs', 'serve', '--config'], { cwd: dir, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^warren serve: --config needs a value/);
  });

  // The start-up time and RSS goals (1 s, 100 MB) are measured and printed here; the assertion
  // is loose (a test on a shared machine is no benchmark): it catches a start that hangs or bloats.
  it('npm start serves the catalog (goal: within a second, under 100 MB RSS), and stops with 0 on SIGTERM', async () => {
    const runs: Array<{ ms: number; cpuMs: number; rssMb: number }> = [];
    for (let i = 0; i < ATTEMPTS; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'warren-pruned-data-'));
      try {
        const started = await startAsNpmStartDoes(dir, dataDir, `pw-${i}-${process.pid}`);
        const code = await started.stop();
        assert.equal(code, 0, 'SIGTERM drains and exits 0');
        runs.push({ ms: Math.round(started.msToCatalog), cpuMs: started.cpuMs, rssMb: Math.round(started.rssMb) });
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
      if (runs.at(-1)!.ms < 1000 && runs.at(-1)!.rssMb < 100) break;
    }
    const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
    process.stdout.write(`# pruned build: ${runs.map((r) => `${r.ms} ms to catalog (${r.cpuMs} ms CPU), ${r.rssMb} MB RSS`).join('; ')}\n`);
    assert.ok(best.ms < 5000, `catalog answered ${best.ms} ms after start (best of ${runs.length})`);
    assert.ok(Math.min(...runs.map((r) => r.rssMb)) < 150, `RSS ${runs.map((r) => r.rssMb).join(', ')} MB`);
  });
});
