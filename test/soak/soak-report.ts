// A soak result as people read it: the text table, the chart of fds, sockets and RSS over time,
// and the files (HTML report, standalone SVG, JSON) the CLI and the tests write.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { renderChartSvg, type ChartSpec } from '../../testkit/svg-charts.ts';
import { FAILURE_KINDS, type Sample, type SoakResult } from './soak-result.ts';
import { renderHtml } from './soak-page.ts';
import { fmtDuration, fmtMs, mb } from './soak-support.ts';

function states(rec: Partial<Record<string, number>>): string {
  const parts = Object.entries(rec).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(', ') : 'none';
}

export function formatTable(r: SoakResult): string {
  const o = r.options;
  const lines: string[] = [];
  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (v: number | null) => (v === null ? '?' : String(v));
  lines.push(
    `warren soak: ${r.ok ? 'PASS' : 'FAIL'}  ${r.cycles.run} bind/unbind cycles (+${r.cycles.warmup} warm-up) and ${r.cycles.provisionCycles} provision/deprovision cycles` +
      ` at concurrency ${o.concurrency}, ulimit -n ${o.fdLimit}, pool ${o.poolConnections}, ${fmtDuration(r.durationMs)}`,
  );
  lines.push(`entry: ${r.entry}   pid ${r.pid ?? '?'}   ${(r.limits?.line ?? '').replace(/\s+/g, ' ')} (/proc/<pid>/limits)`);
  lines.push(
    `throughput     ${r.throughput.cyclesPerSec.toFixed(1)} cycles/s, ${r.throughput.requestsPerSec.toFixed(1)} OSBAPI requests/s` +
      ` (run phase ${(r.runMs / 1000).toFixed(1)} s, ${r.requests.run} requests)`,
  );
  lines.push('');
  lines.push(`${pad('operation', 26)}${'count'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}`);
  const order = ['bind', 'unbind', 'provision', 'deprovision', ...FAILURE_KINDS.map((k) => k.kind)];
  for (const op of [...order, ...Object.keys(r.ops).filter((k) => !order.includes(k))]) {
    const s = r.ops[op];
    if (!s) continue;
    lines.push(`${pad(op, 26)}${String(s.count).padStart(8)}${fmtMs(s.p50).padStart(9)}${fmtMs(s.p99).padStart(9)}${fmtMs(s.max).padStart(9)}`);
  }
  lines.push('(latencies over the whole soak; each failure kind is timed on its failing request)');
  lines.push('');
  lines.push(
    `fds            min ${num(r.fds.min)}  max ${num(r.fds.max)}  final ${num(r.fds.final)}  of soft limit ${num(r.fds.soft)}` +
      `  (idle ${num(r.fds.idle)}, post-warm-up ${num(r.fds.baseline)}; final allowed +${r.fds.allowedGrowth}, peak bound ${num(r.fds.peakBound)})`,
  );
  if (r.socketsAtEnd) {
    lines.push(`sockets at end ${states(r.socketsAtEnd.byState)}`);
    for (const p of r.socketsAtEnd.byPeer) lines.push(`               ${p.direction === 'out' ? 'to' : p.direction === 'in' ? 'on' : 'listen'} ${p.peer}: ${states(p.states)}`);
  }
  const rb = r.rss.baselineKb;
  const idleKb = r.rss.idleKb ?? r.samples[0]?.rssKb ?? null;
  lines.push(
    `RSS            just started ${idleKb === null ? '?' : mb(idleKb)} MB, post-warm-up ${rb === null ? '?' : mb(rb)} MB, peak ${r.rss.peakKb === null ? '?' : mb(r.rss.peakKb)} MB, end ${r.rss.endKb === null ? '?' : mb(r.rss.endKb)} MB` +
      ` (bound: peak <= post-warm-up + ${r.rss.boundMb} MB${rb !== null && r.rss.peakKb !== null ? `; grew ${mb(r.rss.peakKb - rb)} MB` : ''})`,
  );
  const leakText = r.leaks.length === 0 ? 'not judged (the run did not reach settling)' : r.leakClassesFound.length === 0 ? 'none' : r.leakClassesFound.join(', ');
  lines.push(`leak classes   ${leakText}`);
  for (const v of r.leaks) {
    lines.push(
      `               ${v.scope}: ${v.ok ? 'clean' : 'LEAKS'} after ${v.elapsedMs} ms (${v.samples} samples), fd growth ${v.fdGrowth >= 0 ? '+' : ''}${v.fdGrowth} (allowed +${v.allowedFdGrowth})` +
        (v.groups.length ? `: ${v.groups.map((g) => g.text).join('; ')}` : ''),
    );
  }
  lines.push(`               during the run (rolling, informational): max close-wait ${r.maxRollingLeaks['close-wait']}, stuck-rx ${r.maxRollingLeaks['stuck-rx']}, ghost ${r.maxRollingLeaks.ghost}`);
  lines.push(
    `AMQP           ${r.amqp.opened} opened, ${r.amqp.killed} killed by unbind/deprovision (slowest 'close' ${r.amqp.slowestCloseMs} ms after the answer),` +
      ` ${r.amqp.survived} survived, ${r.amqp.connectFailed} connect failures, ${r.amqp.skipped} skipped, max ${r.amqp.maxLive} open at once`,
  );
  lines.push('expected failures');
  for (const k of FAILURE_KINDS) {
    const e = r.expected[k.kind]!;
    lines.push(`               ${pad(k.kind, 24)} ${k.status} x ${String(e.count).padStart(4)}${e.wrong ? `   WRONG ${e.wrong}` : ''}`);
  }
  lines.push(`unexpected     ${r.unexpected.count}${r.unexpected.examples.length ? `: ${r.unexpected.examples[0]}` : ''}`);
  if (r.knownIssue.count > 0) {
    lines.push(
      `known issue    ${r.knownIssue.count} unbind/deprovision answered 502: RabbitMQ answered 500 to DELETE /api/connections/username/{user} right after DELETE /api/users/{user}; ` +
        (r.options.retryKnown500 ? `repeated like a platform (${r.knownIssue.retried} repeats, --retry-known-500)` : 'counted as unexpected (strict)'),
    );
  }
  lines.push(`warren log     ${r.warrenLog.errors} error(s), ${r.warrenLog.warnings} warning(s)`);
  lines.push(`RabbitMQ left  ${r.leftovers.users.length + r.leftovers.vhosts.length === 0 ? 'nothing' : `${r.leftovers.users.length} users, ${r.leftovers.vhosts.length} vhosts`}`);
  lines.push(`warren exit    ${r.warrenExit ?? '?'} (SIGTERM)`);
  if (r.failures.length) {
    lines.push('');
    lines.push('FAILURES');
    for (const f of r.failures) lines.push(`  - ${f.split('\n')[0]}`);
  }
  return lines.join('\n');
}

const PHASE_LABELS: Record<string, string> = { setup: 'setup', 'warm-up': 'warm-up', quiet: '', run: 'bind/unbind run', cleanup: 'cleanup', settle: 'settle', stop: '' };

export function chartSpec(r: SoakResult): ChartSpec {
  const s = r.samples;
  const times = s.map((x) => x.t / 1000);
  const get = (f: (x: Sample) => number | null) => s.map(f);
  const bound = r.rss.baselineKb === null ? [] : [{ value: (r.rss.baselineKb + r.rss.boundMb * 1024) / 1024, label: `bound: post-warm-up + ${r.rss.boundMb} MB`, color: '#cf222e' }];
  const fdLines = [];
  if (r.fds.soft !== null) fdLines.push({ value: r.fds.soft, label: `soft limit (ulimit -n ${r.fds.soft})`, color: '#cf222e' });
  if (r.fds.baseline !== null) fdLines.push({ value: r.fds.baseline + r.fds.allowedGrowth, label: `post-warm-up + pool (${r.fds.baseline} + ${r.fds.allowedGrowth}): allowed after settling`, color: '#bf8700', dash: '3 3' });
  const other = (x: Sample) => Object.entries(x.states).filter(([k]) => k !== 'ESTABLISHED' && k !== 'CLOSE_WAIT' && k !== 'LISTEN').reduce((a, [, v]) => a + v, 0);
  return {
    title: `warren soak: ${r.ok ? 'PASS' : 'FAIL'} (${r.entry})`,
    subtitle:
      `${r.cycles.run} bind/unbind cycles + ${r.cycles.provisionCycles} provision cycles at concurrency ${r.options.concurrency}, ulimit -n ${r.options.fdLimit}, ` +
      `${r.throughput.cyclesPerSec.toFixed(0)} cycles/s; leak classes: ${r.leakClassesFound.length ? r.leakClassesFound.join(', ') : 'none'}; ${r.startedAt.slice(0, 19)}Z`,
    times,
    phases: r.phases.filter((p) => PHASE_LABELS[p.name]).map((p) => ({ name: PHASE_LABELS[p.name]!, start: p.startMs / 1000, end: p.endMs / 1000 })),
    panels: [
      {
        title: 'warren file descriptors by kind',
        unit: 'fds',
        lines: fdLines,
        series: [
          { name: 'total', color: '#24292f', values: get((x) => x.fds.total), width: 2.2 },
          { name: 'socket', color: '#0969da', values: get((x) => x.fds.socket) },
          { name: 'pipe', color: '#8250df', values: get((x) => x.fds.pipe) },
          { name: 'file', color: '#1a7f37', values: get((x) => x.fds.file) },
          { name: 'anon_inode', color: '#9a6700', values: get((x) => x.fds.anon_inode) },
        ],
      },
      {
        title: 'warren TCP sockets by state',
        unit: 'sockets',
        minMax: 10,
        series: [
          { name: 'ESTABLISHED to management', color: '#0969da', values: get((x) => x.mgmt.ESTABLISHED ?? 0), width: 2 },
          { name: 'ESTABLISHED OSBAPI (in)', color: '#1a7f37', values: get((x) => x.inbound.ESTABLISHED ?? 0) },
          { name: 'CLOSE_WAIT', color: '#cf222e', values: get((x) => x.states.CLOSE_WAIT ?? 0), width: 2.2 },
          { name: 'unread now (busy or leaked)', color: '#f4a261', values: get((x) => x.unread), width: 1 },
          { name: 'other states (FIN_WAIT, ...)', color: '#8c959f', values: get(other) },
          { name: 'unread for 1 s (leak class if it stays)', color: '#a40e26', values: get((x) => x.rolling['close-wait'] + x.rolling['stuck-rx'] + x.rolling.ghost), width: 2.2 },
        ],
      },
      {
        title: 'warren resident memory (VmRSS)',
        unit: 'MB',
        lines: bound,
        series: [{ name: 'RSS', color: '#6639ba', values: get((x) => (x.rssKb === null ? null : x.rssKb / 1024)), width: 2 }],
      },
    ],
  };
}

export function writeReports(r: SoakResult, files: { report?: string; svg?: string; json?: string }): void {
  const svg = () => renderChartSvg(chartSpec(r));
  const write = (file: string, text: string) => {
    mkdirSync(dirname(resolve(file)), { recursive: true });
    writeFileSync(file, text);
  };
  if (files.svg) write(files.svg, `<?xml version="1.0" encoding="UTF-8"?>\n${svg()}\n`);
  if (files.report) {
    write(
      files.report,
      renderHtml({
        title: `warren soak report, ${r.startedAt.slice(0, 19)}Z`,
        ok: r.ok,
        verdict: r.ok ? 'PASS: no leak class, fds and RSS within bounds, every answer as expected, nothing left in RabbitMQ' : `FAIL: ${r.failures[0]?.split('\n')[0] ?? ''}`,
        svg: svg(),
        table: formatTable(r),
        failures: r.failures,
        details: [
          { heading: 'Expected failures provoked', text: FAILURE_KINDS.map((k) => `${k.kind} (${k.status}): ${k.what}`).join('\n') },
          ...r.leaks.filter((v) => v.message).map((v) => ({ heading: `Leak guard (${v.scope})`, text: v.message! })),
          ...(r.warrenLog.examples.length ? [{ heading: "warren's warnings and errors (first 10)", text: r.warrenLog.examples.join('\n') }] : []),
          { heading: 'Options', text: JSON.stringify(r.options, null, 2) },
        ],
      }),
    );
  }
  if (files.json) write(files.json, JSON.stringify({ ...r, table: formatTable(r) }, null, 1));
}
