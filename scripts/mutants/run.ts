// `npm run test:mutants [-- --fast] [-- --only ID[,ID]]`: applies each leak mutant of the
// catalogue, one at a time, to a temporary copy of the tree (never to the working tree), runs
// its tests there, and prints one line per mutant and `N killed, N survived`. Exits 1 when a
// mutant survives, 2 when the catalogue is stale (a snippet not found, or found twice) or the
// tests fail without any mutant. Needs what the tests need: RabbitMQ and PostgreSQL up.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MUTANTS, type Mutant } from './catalogue.ts';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..');
/** A mutant that makes a test hang is killed by the hang: past this the run is stopped. */
const RUN_TIMEOUT_MS = 180_000;

interface RunResult {
  status: number | null;
  /** Tests that ran and passed: 0 means the pattern or a skip left nothing to judge by. */
  passed: number;
  timedOut: boolean;
  ms: number;
  failing: string[];
  output: string;
}

/** Applies the edits to a text; throws with the reason when a snippet is missing or ambiguous. */
export function applyEdits(text: string, mutant: Mutant): string {
  let out = text;
  for (const [i, edit] of mutant.edits.entries()) {
    const first = out.indexOf(edit.search);
    if (first < 0) throw new Error(`edit ${i + 1}: snippet not found in ${mutant.file}: ${JSON.stringify(edit.search.slice(0, 80))}`);
    if (out.indexOf(edit.search, first + 1) >= 0) throw new Error(`edit ${i + 1}: snippet found more than once in ${mutant.file}: ${JSON.stringify(edit.search.slice(0, 80))}`);
    out = out.slice(0, first) + edit.replace + out.slice(first + edit.search.length);
  }
  return out;
}

/** The tracked and untracked (not ignored) files, copied; node_modules linked. */
function copyTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warren-mutants-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    try {
      copyFileSync(join(ROOT, f), join(dir, f));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // deleted, not yet committed
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function runTests(dir: string, tests: string[], pattern: string | undefined): Promise<RunResult> {
  // --test-force-exit: a mutant that leaves a handle open (a pooled client never released) must not
  // keep the test process alive after its tests failed.
  const args = ['--import', 'tsx', '--test', '--test-force-exit', '--test-concurrency=1', '--test-reporter=tap'];
  if (pattern) args.push(`--test-name-pattern=${pattern}`);
  args.push(...tests);
  const started = Date.now();
  return new Promise((done) => {
    // Its own process group, so a hang is ended with everything it started (warren, fixtures).
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT; // run as a test runner of its own, even when started from a test
    const child = spawn(process.execPath, args, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, RUN_TIMEOUT_MS);
    child.on('close', (status) => {
      clearTimeout(timer);
      // The tests that failed, not the suites around them (one level less indented).
      const lines = [...output.matchAll(/^( *)not ok \d+ - (.+)$/gm)].filter((m) => !m[2]!.startsWith('/'));
      const deepest = Math.max(0, ...lines.map((m) => m[1]!.length));
      const failing = lines.filter((m) => m[1]!.length === deepest).map((m) => m[2]!.trim());
      const passed = Number(/^# pass (\d+)$/m.exec(output)?.[1] ?? 0);
      done({ status, timedOut, ms: Date.now() - started, passed, failing, output });
    });
  });
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { fast: { type: 'boolean', default: false }, only: { type: 'string' } } });
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((id) => !MUTANTS.some((m) => m.id === id)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`test:mutants: no mutant ${unknown.join(', ')} in the catalogue\n`);
    return 2;
  }
  const chosen = MUTANTS.filter((m) => (only ? only.includes(m.id) : !values.fast || m.fast));
  const started = Date.now();
  const dir = copyTree();
  let stale = 0;
  let killed = 0;
  let survived = 0;
  try {
    // Every snippet first: a stale catalogue is reported before any test runs.
    const patched = new Map<Mutant, string>();
    for (const m of chosen) {
      try {
        patched.set(m, applyEdits(readFileSync(join(dir, m.file), 'utf8'), m));
      } catch (err) {
        stale++;
        process.stdout.write(`ERROR     ${m.id}: ${(err as Error).message} (the code moved on: update scripts/mutants/catalogue.ts)\n`);
      }
    }

    // The same tests without a mutant must pass, or "killed" would mean nothing.
    const baselines = new Map<string, Mutant>();
    for (const m of chosen) baselines.set(`${m.tests.join(' ')}|${m.pattern ?? ''}`, m);
    for (const m of baselines.values()) {
      const r = await runTests(dir, m.tests, m.pattern);
      if (r.status === 0 && r.passed === 0) {
        process.stdout.write(`ERROR     baseline: ${m.tests.join(' ')}${m.pattern ? ` (${m.pattern})` : ''} ran no test (skipped, or the pattern matches nothing): a mutant could not be judged\n`);
        return 2;
      }
      if (r.status !== 0) {
        process.stdout.write(`ERROR     baseline: ${m.tests.join(' ')}${m.pattern ? ` (${m.pattern})` : ''} fails without any mutant: ${r.failing.slice(0, 3).join('; ') || (r.timedOut ? 'timed out' : `exit ${r.status}`)}\n`);
        process.stdout.write(r.output.split('\n').slice(-40).join('\n') + '\n');
        return 2;
      }
    }

    for (const [m, text] of patched) {
      const path = join(dir, m.file);
      const original = readFileSync(path, 'utf8');
      writeFileSync(path, text);
      let r: RunResult;
      try {
        r = await runTests(dir, m.tests, m.pattern);
      } finally {
        writeFileSync(path, original);
      }
      const by = r.timedOut ? `hung past ${seconds(RUN_TIMEOUT_MS)}` : r.failing.length > 0 ? r.failing.slice(0, 2).join('; ') : `exit ${r.status}`;
      if (r.status === 0 && !r.timedOut) {
        survived++;
        process.stdout.write(`SURVIVED  ${m.id.padEnd(34)} ${m.what} (${seconds(r.ms)})\n`);
      } else {
        killed++;
        process.stdout.write(`killed    ${m.id.padEnd(34)} by ${by} (${seconds(r.ms)})\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const errors = stale > 0 ? `, ${stale} stale` : '';
  process.stdout.write(`${killed} killed, ${survived} survived${errors} (${chosen.length} mutants${values.fast ? ', fast subset' : ''}, ${seconds(Date.now() - started)})\n`);
  if (stale > 0) return 2;
  return survived > 0 ? 1 : 0;
}

process.exitCode = await main();
