// A self-contained HTML report: inline SVG charts (no scripts, fonts or other assets) followed by
// the same tables as the text output.
import type { BenchResult, ArmName } from './results.ts';
import { environmentLine, sections } from './tables.ts';

const COLORS: Record<string, string> = { warren: '#d9480f', raw: '#1c7ed6', 'raw+confirm': '#74c0fc', 'null-broker': '#37b24d', 'warren-info': '#f59f00', baseline: '#868e96', c1: '#5c940d', c8: '#1c7ed6', c32: '#862e9c' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (x: number) => (x === 0 ? '0' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(2));

interface Series {
  name: string;
  color: string;
  values: number[];
  /** Drawn as a tick above the bar (e.g. p99 over a p50 bar). */
  whiskers?: number[];
}

function niceMax(v: number): number {
  if (!Number.isFinite(v) || v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function barChart(title: string, categories: string[], series: Series[], yLabel: string, log = false): string {
  const W = 560, H = 300, L = 60, R = 12, T = 34, B = 58;
  const pw = W - L - R, ph = H - T - B;
  const all = series.flatMap((s) => [...s.values, ...(s.whiskers ?? [])]).filter((v) => Number.isFinite(v) && (!log || v > 0));
  const top = Math.max(...all);
  const decade = 10 ** Math.floor(Math.log10(top));
  const max = log ? [1, 2, 5, 10].map((m) => m * decade).find((v) => v >= top)! : niceMax(top);
  const min = log ? 10 ** Math.floor(Math.log10(Math.min(...all))) : 0;
  const y = log
    ? (v: number) => T + ph - ((Math.log10(Math.max(min, v)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))) * ph
    : (v: number) => T + ph - (Math.max(0, v) / max) * ph;
  const groupW = pw / categories.length;
  const barW = Math.min(44, (groupW * 0.75) / series.length);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600">${esc(title)}</text>`,
  ];
  const ticks: number[] = [];
  if (log) {
    for (let d = min; d <= max * 1.0001; d *= 10) for (const m of [1, 2, 5]) if (d * m <= max * 1.0001) ticks.push(d * m);
  } else {
    for (let i = 0; i <= 4; i++) ticks.push((max / 4) * i);
  }
  for (const v of ticks) {
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#e9ecef"/>`);
    parts.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#495057">${fmt(v)}</text>`);
  }
  parts.push(`<text transform="translate(14 ${T + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11" fill="#495057">${esc(yLabel)}</text>`);
  categories.forEach((cat, ci) => {
    const gx = L + ci * groupW + (groupW - barW * series.length) / 2;
    series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === undefined || !Number.isFinite(v)) return;
      const x = gx + si * barW;
      parts.push(`<rect x="${x + 2}" y="${y(v)}" width="${barW - 4}" height="${T + ph - y(v)}" fill="${s.color}"><title>${esc(`${s.name} ${cat}: ${fmt(v)}`)}</title></rect>`);
      const wv = s.whiskers?.[ci];
      if (wv !== undefined && Number.isFinite(wv)) {
        const cx = x + barW / 2;
        parts.push(`<line x1="${cx}" x2="${cx}" y1="${y(v)}" y2="${y(wv)}" stroke="#212529" stroke-width="1"/>`);
        parts.push(`<line x1="${cx - 6}" x2="${cx + 6}" y1="${y(wv)}" y2="${y(wv)}" stroke="#212529" stroke-width="2"><title>${esc(`${s.name} ${cat} p99: ${fmt(wv)}`)}</title></line>`);
      }
      parts.push(`<text x="${x + barW / 2}" y="${y(v) - 3}" text-anchor="middle" font-size="${series.length > 3 ? 8 : 10}">${fmt(v)}</text>`);
    });
    parts.push(`<text x="${L + ci * groupW + groupW / 2}" y="${T + ph + 16}" text-anchor="middle" font-size="12">${esc(cat)}</text>`);
  });
  parts.push(`<line x1="${L}" x2="${W - R}" y1="${T + ph}" y2="${T + ph}" stroke="#495057"/>`);
  const perRow = 5;
  series.forEach((s, si) => {
    const lx = L + (si % perRow) * 100;
    const ly = H - 30 + Math.floor(si / perRow) * 15;
    parts.push(`<rect x="${lx}" y="${ly}" width="11" height="11" fill="${s.color}"/><text x="${lx + 14}" y="${ly + 10}" font-size="11">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function lineChart(title: string, points: Array<{ name: string; color: string; xy: Array<[number, number]> }>, xLabel: string, yLabel: string): string {
  const W = 560, H = 280, L = 60, R = 16, T = 34, B = 48;
  const pw = W - L - R, ph = H - T - B;
  const xs = points.flatMap((p) => p.xy.map((q) => q[0]));
  const ys = points.flatMap((p) => p.xy.map((q) => q[1]));
  const xTop = Math.max(...xs);
  const xDecade = 10 ** Math.floor(Math.log10(xTop || 1));
  const xMax = [1, 1.2, 1.6, 2, 3, 4, 5, 6, 8, 10].map((m) => m * xDecade).find((v) => v >= xTop) ?? xTop;
  const yMax = niceMax(Math.max(...ys) * 1.1);
  const X = (v: number) => L + (v / xMax) * pw;
  const Y = (v: number) => T + ph - (v / yMax) * ph;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${Y(v)}" y2="${Y(v)}" stroke="#e9ecef"/><text x="${L - 6}" y="${Y(v) + 4}" text-anchor="end" font-size="11">${fmt(v)}</text>`);
    const xv = (xMax / 4) * i;
    parts.push(`<text x="${X(xv)}" y="${T + ph + 16}" text-anchor="middle" font-size="11">${fmt(xv)}</text>`);
  }
  parts.push(`<text x="${L + pw / 2}" y="${H - 8}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${T + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(yLabel)}</text>`);
  for (const p of points) {
    parts.push(`<polyline fill="none" stroke="${p.color}" stroke-width="2" points="${p.xy.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of p.xy) parts.push(`<circle cx="${X(x)}" cy="${Y(y)}" r="3" fill="${p.color}"><title>${esc(`${p.name}: ${x} ops, ${fmt(y)} MB`)}</title></circle>`);
  }
  parts.push(`<line x1="${L}" x2="${W - R}" y1="${T + ph}" y2="${T + ph}" stroke="#495057"/>`);
  points.forEach((p, i) => parts.push(`<rect x="${L + 10 + (i % 3) * 160}" y="${T + 4 + Math.floor(i / 3) * 16}" width="12" height="12" fill="${p.color}"/><text x="${L + 26 + (i % 3) * 160}" y="${T + 14 + Math.floor(i / 3) * 16}" font-size="12">${esc(p.name)}</text>`));
  parts.push('</svg>');
  return parts.join('');
}

export function renderHtml(r: BenchResult): string {
  const charts: string[] = [];
  const arms: ArmName[] = ['warren', 'raw', 'raw+confirm', 'null-broker', 'warren-info'];
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
    charts.push(lineChart('Warren memory by operations served', lines, 'operations', 'MB'));
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
