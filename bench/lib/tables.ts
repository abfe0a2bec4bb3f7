// The results as tables (sections of rows), rendered as plain text or markdown. The HTML report
// reuses the same sections.
import { evaluateGoals, minimalArmOf, ownShare, versusMinimal, type BenchResult, type ArmName, type ScaleResult } from './results.ts';

export interface Section {
  title: string;
  notes: string[];
  header: string[];
  /** 'r' right-aligned (numbers), 'l' left. */
  align: Array<'l' | 'r'>;
  rows: string[][];
}

const f = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
const ARMS: ArmName[] = ['warren', 'minimal', 'null-broker', 'raw', 'baseline', 'raw+confirm', 'warren-info'];

/** The first figure: warren against the minimal broker (the ceiling for warren here), with raw beside it. */
function headline(r: BenchResult): Section | undefined {
  const s = r.scenarios.find((x) => x.id === 'bind-unbind');
  const rows: string[][] = [];
  let older = false;
  for (const c of s?.byConcurrency ?? []) {
    const vm = versusMinimal(c);
    const m = minimalArmOf(c);
    if (!vm || !m) continue;
    older ||= vm.name === 'null-broker';
    const w = c.arms.warren;
    rows.push([
      String(c.concurrency), f(vm.median), `${f(Math.min(...vm.roundRatios))}-${f(Math.max(...vm.roundRatios))}`, f(c.medianRoundRatio),
      f(w?.cyclesPerS, 1), f(m.arm.cyclesPerS, 1), f(c.arms.raw?.cyclesPerS, 1),
      `${f(w?.brokerCpuMsPerCycle)} / ${f(m.arm.brokerCpuMsPerCycle)}`, f((w?.brokerCpuMsPerCycle ?? NaN) / (m.arm.brokerCpuMsPerCycle ?? NaN)),
    ]);
  }
  if (!rows.length) return undefined;
  return {
    title: `Headline: warren / minimal broker, bind + unbind (${r.settings.store ?? 'sqlite'} store)`,
    notes: [
      'minimal: bench/support/minimal-broker.ts, a Node process making exactly the calls warren\'s guarantees need (bind: PUT user, PUT permissions; unbind: DELETE user, then GET the user\'s connections) through an undici pool of 32, with no store, schema or auth check: the practical ceiling for warren on this machine',
      'ratios are medians of the per-round ratios of interleaved rounds (the range shows the noise); cycles/s are over all rounds',
      ...(older ? ['this run predates the minimal broker: its null broker (DELETE user + DELETE connections on unbind, no GET) stands in'] : []),
    ],
    header: ['conc', 'warren/minimal', 'per round', 'warren/raw', 'warren cycles/s', 'minimal cycles/s', 'raw cycles/s', 'CPU ms/cycle warren / minimal', 'CPU x'],
    align: ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows,
  };
}

export function sections(r: BenchResult): Section[] {
  const out: Section[] = [];
  const head = headline(r);
  if (head) out.push(head);
  for (const s of r.scenarios) {
    const [a, b] = s.ops;
    const rows: string[][] = [];
    const rawParts = s.ops.map((op) => r.calibration.find((c) => c.op === op)?.rawCallsPerOp);
    const rawCalls = rawParts.every((x) => x !== undefined) ? rawParts.reduce((p, q) => p! + q!, 0) : undefined;
    for (const c of s.byConcurrency) {
      for (const arm of ARMS) {
        const x = c.arms[arm];
        if (!x) continue;
        const ratio = arm === 'raw' ? '-' : arm === 'warren' ? f(c.ratio) : f(x.cyclesPerS / (c.arms.raw?.cyclesPerS ?? NaN));
        const m = minimalArmOf(c);
        const vsMinimal = !m || arm === m.name ? '-' : f(x.cyclesPerS / m.arm.cyclesPerS);
        rows.push([
          String(c.concurrency), arm, f(x.cyclesPerS, 1), vsMinimal, ratio,
          `${f(x.latency[a]?.p50)} / ${f(x.latency[a]?.p99)}`,
          `${f(x.latency[b]?.p50)} / ${f(x.latency[b]?.p99)}`,
          x.brokerCpuS === undefined ? '-' : `${f(x.brokerCpuS, 1)} (${f((x.brokerSysShare ?? NaN) * 100, 0)}% sys)`,
          `${f(x.brokerCpuMsPerCycle)} / ${f(x.rabbitCpuMsPerCycle)} / ${f(x.driverCpuMsPerCycle)}${x.pgCpuMsPerCycle === undefined ? '' : ` / ${f(x.pgCpuMsPerCycle)}`}`,
          f(x.brokerRssMb, 0), x.managementCallsPerCycle !== undefined ? f(x.managementCallsPerCycle) : rawCalls === undefined ? '-' : String(rawCalls + (arm === 'raw+confirm' ? 1 : 0)),
          x.errors ? String(x.errors) : '0',
        ]);
      }
    }
    // Without a minimal arm (provision, older runs without one) the '/ minimal' column goes.
    const hasMinimal = s.byConcurrency.some((c) => minimalArmOf(c) !== undefined);
    const hasPg = s.byConcurrency.some((c) => Object.values(c.arms).some((x) => x?.pgCpuMsPerCycle !== undefined));
    const keep = <T>(xs: T[]): T[] => (hasMinimal ? xs : xs.filter((_, i) => i !== 3));
    out.push({
      title: `${s.title}: ${a} + ${b} cycles`,
      notes: [
        ...Object.entries(s.describes).map(([arm, d]) => `${arm}: ${d}`),
        'broker: the process between this driver and RabbitMQ (warren, or the minimal broker); CPU ms/cycle: utime+stime from /proc of the broker, of RabbitMQ (beam.smp) and of this driver, over the measured rounds (with a PostgreSQL store, a fourth figure: every PostgreSQL server process)',
        `/ minimal, / raw: cycles/s over all rounds divided by the minimal broker's, by raw's; warren / raw per-round ratios (min-max, median): ${s.byConcurrency.map((c) => `c${c.concurrency} ${f(Math.min(...c.roundRatios))}-${f(Math.max(...c.roundRatios))}, ${f(c.medianRoundRatio)}`).join('; ')}`,
      ],
      header: keep(['conc', 'arm', 'cycles/s', '/ minimal', '/ raw', `${a} p50/p99 ms`, `${b} p50/p99 ms`, 'broker CPU s', `CPU ms/cycle broker / RabbitMQ / driver${hasPg ? ' / PostgreSQL' : ''}`, 'broker RSS MB', 'mgmt calls/cycle', 'errors']),
      align: keep<'l' | 'r'>(['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']),
      rows: rows.map(keep),
    });
  }

  const lat: string[][] = [];
  for (const s of r.scenarios) {
    const c1 = s.byConcurrency.find((c) => c.concurrency === 1);
    if (!c1) continue;
    for (const op of s.ops) {
      const w = c1.arms.warren?.latency[op];
      const raw = c1.arms.raw?.latency[op];
      const m = minimalArmOf(c1)?.arm.latency[op];
      lat.push([op, f(w?.p50), f(m?.p50), f(raw?.p50), f((w?.p50 ?? NaN) - (raw?.p50 ?? NaN)), f((m?.p50 ?? NaN) - (raw?.p50 ?? NaN)), f(w?.p99), f(raw?.p99), f((w?.mean ?? NaN) - (raw?.mean ?? NaN))]);
    }
  }
  if (lat.length) {
    out.push({
      title: 'Latency warren adds per operation, concurrency 1 (ms)',
      notes: ['added = warren p50 - raw p50: the OSBAPI hop, warren\'s own work and its extra management calls; minimal adds: the hop and the minimal broker\'s calls alone'],
      header: ['operation', 'warren p50', 'minimal p50', 'raw p50', 'added p50', 'minimal adds p50', 'warren p99', 'raw p99', 'added mean'],
      align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows: lat,
    });
  }

  if (r.calibration.length) {
    out.push({
      title: 'RabbitMQ management calls per operation (warren /metrics, warren_rabbitmq_management_calls_total)',
      notes: [],
      header: ['operation', 'through warren', 'raw minimum', 'warren\'s calls'],
      align: ['l', 'r', 'r', 'l'],
      rows: r.calibration.map((c) => [
        c.op, f(c.callsPerOp), String(c.rawCallsPerOp),
        Object.entries(c.breakdown).map(([k, v]) => (v === 1 ? k : `${f(v)}x ${k}`)).join(', '),
      ]),
    });
  }

  if (r.osbapi.length) {
    out.push({
      title: 'The OSBAPI layer alone (no RabbitMQ call behind these GETs)',
      notes: ['warren CPU ms/request from /proc; 1000 / that is what one core of warren could serve'],
      header: ['endpoint', 'conc', 'requests/s', 'p50 ms', 'p99 ms', 'warren CPU ms/request', 'errors'],
      align: ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows: r.osbapi.map((e) => [e.endpoint, String(e.concurrency), f(e.requestsPerS, 0), f(e.latency.p50), f(e.latency.p99), f(e.warrenCpuMsPerRequest, 3), String(e.errors)]),
    });
  }

  if (r.logging?.length) {
    out.push({
      title: 'Logging: WARREN_LOG_LEVEL=info vs warn (bind/unbind)',
      notes: ['info writes one audit line per bind and per unbind'],
      header: ['conc', 'info/warn cycles/s', 'warn CPU ms/cycle', 'info CPU ms/cycle'],
      align: ['r', 'r', 'r', 'r'],
      rows: r.logging.map((l) => [String(l.concurrency), f(l.infoRatio, 3), f(l.warnCpuMsPerCycle), f(l.infoCpuMsPerCycle)]),
    });
  }

  if (r.memory.length) {
    out.push({
      title: 'Warren RSS',
      notes: [
        ...r.memory.map((m) => `${m.source}, ops:RSS MB${m.samples.some((s) => s.heapUsedMb !== undefined) ? '(heap used MB)' : ''}: ${m.samples.map((s) => `${s.ops}:${f(s.rssMb, 0)}${s.heapUsedMb !== undefined ? `(${f(s.heapUsedMb, 0)})` : ''}`).join(' ')}`),
        'heap used: nodejs_heap_size_used_bytes from warren\'s /metrics at the same moment (no forced GC)',
      ],
      header: ['process', 'ops', 'RSS at start MB', 'RSS after 1k ops MB', 'RSS at end MB', 'max MB', 'growth MB', 'ops/s'],
      align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows: r.memory.map((m) => [m.source === 'soak' ? `soak (fresh, c${m.concurrency})` : 'the run\'s warren', String(m.ops), f(m.rssAtStartMb, 1), f(m.rssAfter1kMb, 1), f(m.rssEndMb, 1), f(m.rssMaxMb, 1), f(m.growthMb, 1), f(m.opsPerS, 0)]),
    });
  }

  if (r.profile) {
    const p = r.profile;
    out.push({
      title: `CPU profile of warren (bind/unbind, concurrency ${p.concurrency}, ${p.seconds} s): where the CPU goes`,
      notes: [
        `${p.file}`,
        `active ${f(p.activeMs, 0)} ms of ${f(p.durationMs, 0)} ms (idle ${f(p.idleMs, 0)}, GC ${f(p.gcMs, 0)})${p.ops ? `; ${p.ops} ops, ${f(p.activeUsPerOp, 0)} µs active CPU per op` : ''}`,
        'self time of node internals and native code (socket writes, crypto, SQLite) is charged to the nearest warren or package frame that called it',
      ],
      header: ['charged to', 'self ms', '% of active', 'µs per op'],
      align: ['l', 'r', 'r', 'r'],
      rows: (p.byOwner ?? p.byCategory).slice(0, 16).map((c) => [c.category, f(c.selfMs, 0), f(c.pctOfActive, 1), p.ops ? f((c.selfMs * 1000) / p.ops, 0) : '-']),
    });
    out.push({
      title: 'CPU profile: top functions by self time',
      notes: [],
      header: ['function', 'where', 'self ms', 'self %', 'total ms'],
      align: ['l', 'l', 'r', 'r', 'r'],
      rows: p.top.slice(0, 20).map((t) => [t.name, t.where, f(t.selfMs, 0), f(t.selfPct, 1), f(t.totalMs, 0)]),
    });
    out.push({
      title: 'CPU profile: warren\'s own functions (src/) by total time',
      notes: [],
      header: ['function', 'where', 'self ms', 'total ms'],
      align: ['l', 'l', 'r', 'r'],
      rows: p.topWarren.slice(0, 15).map((t) => [t.name, t.where, f(t.selfMs, 1), f(t.totalMs, 0)]),
    });
  }

  if (r.scale) out.push(...scaleSections(r.scale));

  const goals = evaluateGoals(r);
  out.push({
    title: 'Goals',
    notes: [],
    header: ['goal', 'target', 'measured', 'result', 'margin'],
    align: ['l', 'l', 'l', 'l', 'l'],
    rows: goals.map((g) => [g.goal, g.target, g.measured, g.met === null ? 'n/a' : g.met ? 'MET' : 'MISSED', g.margin]),
  });
  return out;
}

function scaleSections(scale: ScaleResult): Section[] {
  const out: Section[] = [];
  const rows: string[][] = [];
  for (const row of scale.byConcurrency) {
    const raw = row.arms.find((a) => a.arm === 'raw')?.result;
    const seeded = row.arms.filter((a) => a.instances !== undefined).sort((a, b) => a.instances! - b.instances!);
    const base = ownShare(seeded[0]?.result, raw);
    for (const a of [...seeded, ...row.arms.filter((x) => x.instances === undefined)]) {
      const x = a.result;
      const own = a.instances === undefined ? undefined : ownShare(x, raw);
      rows.push([
        String(row.concurrency), a.arm, a.instances === undefined ? '-' : String(a.instances), a.bindings === undefined ? '-' : String(a.bindings),
        f(x.cyclesPerS, 1), `${f(x.latency.bind?.p50)} / ${f(x.latency.unbind?.p50)}`,
        own ? f(own.latencyMs) : '-', own ? f(own.cpuMs) : '-',
        own ? `${f((own.latencyMs / base.latencyMs - 1) * 100, 0)} % / ${f((own.cpuMs / base.cpuMs - 1) * 100, 0)} %` : '-',
        `${f(Math.min(...a.rounds), 0)}-${f(Math.max(...a.rounds), 0)}`, f(a.rssAtStartMb, 0), a.seedS === undefined ? '-' : f(a.seedS, 1), String(x.errors),
      ]);
    }
  }
  if (rows.length) {
    out.push({
      title: 'Scale: warren\'s own share of a bind+unbind against the size of its store',
      notes: [
        `one warren per size, its store seeded before it started (through the Store interface: ready instances with ${scale.bindingsPerInstance} ready bindings each, no RabbitMQ objects behind them); each binds and unbinds on one real instance; interleaved round by round with raw`,
        'own share: warren (bind p50 + unbind p50) - raw (bind p50 + unbind p50), ms, and warren\'s CPU ms per cycle; change: against the smallest store',
      ],
      header: ['conc', 'arm', 'instances', 'bindings', 'cycles/s', 'bind / unbind p50 ms', 'own share ms', 'CPU ms/cycle', 'change own / CPU', 'cycles/s per round', 'RSS at start MB', 'seed s', 'errors'],
      align: ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows,
    });
  }
  if (scale.vhosts.length) {
    out.push({
      title: 'Scale: RabbitMQ\'s vhost creation against the number of vhosts',
      notes: [
        'filler: vhosts of this run present (created with the run prefix, deleted at the end); total: every vhost in RabbitMQ then',
        'PUT / DELETE vhost: probes created and deleted at that level, one at a time; fill: mean PUT of the fillers created to reach the level',
        'bind/unbind p50: concurrency 1 at that level, raw and through warren; own share as above',
        ...(scale.vhostSeconds !== undefined ? [`creating and deleting the fillers took ${f(scale.vhostSeconds, 0)} s`] : []),
        ...(scale.vhostLimit ? [`stopped early: ${scale.vhostLimit}`] : []),
      ],
      header: ['filler', 'total vhosts', 'RabbitMQ fds used / limit', 'PUT vhost p50 / p90 / max ms', 'DELETE vhost p50 ms', 'fill PUT mean ms', 'raw bind / unbind p50 ms', 'warren bind / unbind p50 ms', 'own share ms'],
      align: ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows: scale.vhosts.map((v) => [
        String(v.filler), String(v.totalVhosts), v.rabbitFd ? `${v.rabbitFd.used} / ${v.rabbitFd.total}` : '-', `${f(v.putVhost.p50, 1)} / ${f(v.putVhost.p90, 1)} / ${f(v.putVhost.max, 1)}`, f(v.deleteVhost.p50, 1), f(v.fillPutMeanMs, 1),
        `${f(v.raw?.latency.bind?.p50)} / ${f(v.raw?.latency.unbind?.p50)}`, `${f(v.warren?.latency.bind?.p50)} / ${f(v.warren?.latency.unbind?.p50)}`,
        v.raw && v.warren ? f(ownShare(v.warren, v.raw).latencyMs) : '-',
      ]),
    });
  }
  return out;
}

export function environmentLine(r: BenchResult): string {
  const e = r.environment;
  return `${r.mode} run ${r.startedAt} (${f(r.durationS, 0)} s): ${e.cpus} x ${e.cpuModel}, ${e.os}; node ${e.node}; RabbitMQ ${e.rabbitmq} (Erlang ${e.erlang}); warren ${e.warren}; undici ${e.undici}, fastify ${e.fastify}, pino ${e.pino}, better-sqlite3 ${e.betterSqlite3}; RabbitMQ, warren and the driver share the machine; load average ${e.loadAvgAtStart ?? '?'} at start, ${e.loadAvgAtEnd ?? '?'} at end`;
}

export function renderText(r: BenchResult): string {
  const lines: string[] = [environmentLine(r), ''];
  if (r.mergedFrom) lines.push(`merged from ${r.mergedFrom.join(', ')}`, '');
  if (r.aborted) lines.push(`ABORTED: ${r.aborted}`, '');
  for (const s of sections(r)) {
    lines.push(s.title);
    const widths = s.header.map((h, i) => Math.max(h.length, ...s.rows.map((row) => (row[i] ?? '').length)));
    const fmt = (cells: string[]) =>
      cells.map((c, i) => (s.align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
    lines.push(fmt(s.header), widths.map((w) => '-'.repeat(w)).join('  '));
    for (const row of s.rows) lines.push(fmt(row));
    for (const n of s.notes) lines.push(`  ${n}`);
    lines.push('');
  }
  return lines.join('\n');
}

export function renderMarkdown(r: BenchResult): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  const lines: string[] = [`_${environmentLine(r)}_`, ''];
  if (r.mergedFrom) lines.push(`_merged from ${r.mergedFrom.join(', ')}_`, '');
  if (r.aborted) lines.push(`**ABORTED:** ${r.aborted}`, '');
  for (const s of sections(r)) {
    lines.push(`#### ${s.title}`, '');
    lines.push(`| ${s.header.map(esc).join(' | ')} |`);
    lines.push(`|${s.align.map((a) => (a === 'r' ? ' ---: ' : ' --- ')).join('|')}|`);
    for (const row of s.rows) lines.push(`| ${row.map(esc).join(' | ')} |`);
    if (s.notes.length) lines.push('', ...s.notes.map((n) => `- ${n}`));
    lines.push('');
  }
  return lines.join('\n');
}
