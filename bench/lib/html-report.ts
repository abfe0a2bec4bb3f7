// A self-contained HTML report: inline SVG charts (testkit/svg-charts.ts) followed by the same
// tables as the text output.
import { ownShare, type BenchResult, type ArmName } from './results.ts';
import { environmentLine, sections } from './tables.ts';
import { barChart, esc, lineChart } from '../../testkit/svg-charts.ts';

const COLORS: Record<string, string> = { warren: '#d9480f', raw: '#1c7ed6', 'raw+confirm': '#74c0fc', minimal: '#37b24d', 'null-broker': '#69db7c', 'warren-info': '#f59f00', baseline: '#868e96', c1: '#5c940d', c8: '#1c7ed6', c32: '#862e9c' };

export function renderHtml(r: BenchResult): string {
  const charts: string[] = [];
  const arms: ArmName[] = ['warren', 'minimal', 'null-broker', 'raw', 'raw+confirm', 'warren-info', 'baseline'];
  for (const s of r.scenarios) {
    const cats = s.byConcurrency.map((c) => `concurrency ${c.concurrency}`);
    const present = arms.filter((a) => s.byConcurrency.some((c) => c.arms[a]));
    charts.push(barChart(`${s.title}: cycles/s`, cats, present.map((a) => ({
      name: a, color: COLORS[a]!, values: s.byConcurrency.map((c) => c.arms[a]?.cyclesPerS ?? NaN),
    })), 'cycles per second'));
    for (const op of s.ops) {
      charts.push(barChart(`${op} latency: p50 bar, p99 tick (ms, log scale)`, cats, present.map((a) => ({
        name: a, color: COLORS[a]!,
        values: s.byConcurrency.map((c) => c.arms[a]?.latency[op]?.p50 ?? NaN),
        whiskers: s.byConcurrency.map((c) => c.arms[a]?.latency[op]?.p99 ?? NaN),
      })), 'milliseconds', true));
    }
  }
  if (r.osbapi.length) {
    const endpoints = [...new Set(r.osbapi.map((e) => e.endpoint))];
    const concs = [...new Set(r.osbapi.map((e) => e.concurrency))];
    charts.push(barChart('OSBAPI layer alone: requests/s', endpoints, concs.map((c) => ({
      name: `concurrency ${c}`, color: COLORS[`c${c}`] ?? '#868e96',
      values: endpoints.map((ep) => r.osbapi.find((e) => e.endpoint === ep && e.concurrency === c)?.requestsPerS ?? NaN),
    })), 'requests per second'));
  }
  if (r.memory.some((m) => m.samples.length > 1)) {
    const lines = r.memory.flatMap((m, i) => {
      const name = m.source === 'soak' ? 'soak' : 'run';
      const out = [{ name: `${name} RSS`, color: i === 0 ? COLORS.warren! : COLORS.raw!, xy: m.samples.map((s) => [s.ops, s.rssMb] as [number, number]) }];
      const heap = m.samples.filter((s) => s.heapUsedMb !== undefined).map((s) => [s.ops, s.heapUsedMb!] as [number, number]);
      if (heap.length > 1) out.push({ name: `${name} heap used`, color: i === 0 ? '#ffa94d' : '#a5d8ff', xy: heap });
      return out;
    });
    charts.push(lineChart('Warren memory by operations served', lines, 'operations', 'MB', 'MB'));
  }
  if (r.scale?.vhosts.length) {
    const v = r.scale.vhosts;
    charts.push(lineChart('RabbitMQ: PUT /api/vhosts against the vhost count', [
      { name: 'PUT vhost p50', color: COLORS.raw!, xy: v.map((x) => [x.totalVhosts, x.putVhost.p50] as [number, number]) },
      { name: 'PUT vhost p90', color: '#74c0fc', xy: v.map((x) => [x.totalVhosts, x.putVhost.p90] as [number, number]) },
    ], 'vhosts in RabbitMQ', 'ms', 'ms'));
  }
  for (const row of r.scale?.byConcurrency ?? []) {
    const raw = row.arms.find((a) => a.arm === 'raw')?.result;
    const seeded = row.arms.filter((a) => a.instances !== undefined).sort((a, b) => a.instances! - b.instances!);
    if (!raw || seeded.length < 2) continue;
    charts.push(lineChart(`warren's own share per bind+unbind against store size, concurrency ${row.concurrency}`, [
      { name: 'own share ms (p50s over raw)', color: COLORS.warren!, xy: seeded.map((a) => [a.instances!, ownShare(a.result, raw).latencyMs] as [number, number]) },
      { name: 'CPU ms/cycle', color: COLORS.minimal!, xy: seeded.map((a) => [a.instances!, ownShare(a.result, raw).cpuMs] as [number, number]) },
    ], 'instances in the store', 'ms', 'ms'));
  }
  const tables = sections(r).map((s) => {
    const head = s.header.map((h) => `<th>${esc(h)}</th>`).join('');
    const body = s.rows.map((row) => `<tr>${row.map((c, i) => `<td class="${s.align[i]}${c === 'MISSED' ? ' missed' : c === 'MET' ? ' met' : ''}">${esc(c)}</td>`).join('')}</tr>`).join('\n');
    const notes = s.notes.length ? `<ul>${s.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
    return `<h3>${esc(s.title)}</h3><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>${notes}`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>warren benchmark ${esc(r.startedAt)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#212529;max-width:1200px}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{border:1px solid #dee2e6;background:#fff}
table{border-collapse:collapse;margin:8px 0 4px;font-size:13px}th,td{border:1px solid #dee2e6;padding:3px 8px}
th{background:#f1f3f5}td.r{text-align:right;font-variant-numeric:tabular-nums}td.missed{color:#c92a2a;font-weight:600}td.met{color:#2b8a3e;font-weight:600}
ul{font-size:12px;color:#495057;margin:2px 0 16px}
</style></head><body>
<h1>warren vs the raw RabbitMQ management API</h1>
<p>${esc(environmentLine(r))}</p>
${r.aborted ? `<p><strong>ABORTED:</strong> ${esc(r.aborted)}</p>` : ''}
<div class="charts">${charts.join('\n')}</div>
${tables.join('\n')}
</body></html>
`;
}
