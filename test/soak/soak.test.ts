// The real soak (see soak.ts and docs/soak.md): warren under `ulimit -n 256`, 20,000
// bind/unbind cycles at concurrency 32 plus provision/deprovision cycles, live AMQP connections
// that unbind must kill, expected failures, and the leak guard sampling the process throughout.
// About 2-3 minutes on a 2-core machine. SOAK_REPORT=dir writes soak-report.html/.svg/.json there.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { formatTable, writeReports } from './soak-report.ts';
import { runSoak, type SoakResult } from './soak.ts';
import { readOpenFilesLimit } from './soak-support.ts';

const CYCLES = 20_000;
const FD_LIMIT = 256;

describe(`soak: ${CYCLES} bind/unbind cycles at concurrency 32 under ulimit -n ${FD_LIMIT}`, () => {
  let result: SoakResult;
  let limits: ReturnType<typeof readOpenFilesLimit> | undefined;

  before(
    async () => {
      result = await runSoak({
        cycles: CYCLES,
        concurrency: 32,
        fdLimit: FD_LIMIT,
        deadlineMs: 6 * 60_000,
        log: (line) => process.stderr.write(`${line}\n`),
        onStarted: ({ pid }) => {
          limits = readOpenFilesLimit(pid); // read from /proc while warren runs
        },
      });
      process.stderr.write(`${formatTable(result)}\n`);
      const dir = process.env.SOAK_REPORT;
      if (dir) {
        writeReports(result, { report: join(dir, 'soak-report.html'), svg: join(dir, 'soak-report.svg'), json: join(dir, 'soak-report.json') });
      }
    },
    { timeout: 9 * 60_000 },
  );

  test(`the warren process really runs under ulimit -n ${FD_LIMIT} (/proc/<pid>/limits)`, () => {
    assert.ok(limits, 'warren never started');
    assert.equal(limits.soft, FD_LIMIT, limits.line);
    assert.equal(limits.hard, FD_LIMIT, limits.line);
    // The leak module saw the same limit in every sample.
    assert.ok(result.samples.length > 10);
    for (const s of result.samples) assert.equal(s.soft, FD_LIMIT);
  });

  test(`ran ${CYCLES} bind/unbind cycles, provision/deprovision cycles, AMQP connections and expected failures`, () => {
    assert.equal(result.stoppedEarly, null);
    assert.ok(result.cycles.run >= CYCLES, `${result.cycles.run} cycles`);
    assert.ok(result.cycles.provisionCycles >= CYCLES / 100, `${result.cycles.provisionCycles} provision cycles`);
    assert.ok(result.amqp.opened >= CYCLES / 50, `${result.amqp.opened} AMQP connections`);
    assert.equal(result.amqp.survived, 0);
    for (const [kind, e] of Object.entries(result.expected)) {
      assert.ok(e.count > 0, `${kind} never provoked`);
      assert.equal(e.wrong, 0, `${kind}: ${e.wrong} wrong answers`);
    }
  });

  test('the report shows zero leak classes on the broker process', () => {
    assert.equal(result.leaks.length, 2, 'both settle verdicts (management peer, whole process) were taken');
    for (const v of result.leaks) {
      assert.equal(v.ok, true, v.message ?? '');
      assert.deepEqual(v.counts, { 'close-wait': 0, 'stuck-rx': 0, ghost: 0 });
    }
    assert.deepEqual(result.leakClassesFound, []);
    assert.match(formatTable(result), /^leak classes {3}none$/m);
  });

  test('passes every check: fds within the pool, RSS bound, answers, AMQP, nothing left in RabbitMQ', (t) => {
    for (const line of formatTable(result).split('\n')) t.diagnostic(line);
    assert.deepEqual(result.failures, []);
    assert.equal(result.ok, true);
  });

  test(
    'unbind and deprovision of a binding with live connections never answer 502',
    () => {
      assert.equal(result.knownIssue.count, 0, result.knownIssue.examples.join('\n'));
    },
  );
});
