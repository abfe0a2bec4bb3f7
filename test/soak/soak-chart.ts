// Self-contained SVG line charts (no scripts, fonts or other external assets) and the HTML
// page around them: the soak's picture of fds, sockets by state and RSS over time.

export interface ChartSeries {
  name: string;
  color: string;
  /** One value per time; null leaves a gap. */
  values: ReadonlyArray<number | null>;
  dash?: string;
  width?: number;
}

/** A horizontal reference line (a limit, a bound). */
export interface ChartLine {
  value: number;
  label: string;
  color: string;
  dash?: string;
}

export interface ChartPanel {
  title: string;
  unit: string;
  series: ChartSeries[];
  lines?: ChartLine[];
  /** The y axis reaches at least this far. */
  minMax?: number;
}

export interface ChartPhase {
  name: string;
  /** Seconds since the start. */
  start: number;
  end: number;
}

export interface ChartSpec {
  title: string;
  subtitle: string;
  /** Seconds since the start, one per sample. */
  times: readonly number[];
  phases: ChartPhase[];
  panels: ChartPanel[];
}

const WIDTH = 1140;
const LEFT = 64;
const RIGHT = 330;
const PLOT_W = WIDTH - LEFT - RIGHT;
const PANEL_H = 190;
const PANEL_GAP = 58;
const HEADER = 84;
const MAX_POINTS = 900;
const PHASE_COLORS = ['#f3f4f6', '#e8f1fb', '#fdf6e3', '#eef8ee', '#f7eef8'];

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceStep(max: number, ticks: number): number {
  if (!(max > 0)) return 1;
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const f = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
  return f * mag;
}

function fmtTick(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** Buckets long series, keeping each bucket's maximum (peaks are what matter here). */
function decimate(times: readonly number[], series: ReadonlyArray<number | null>[]): { times: number[]; series: Array<Array<number | null>> } {
  const n = times.length;
  if (n <= MAX_POINTS) return { times: [...times], series: series.map((s) => [...s]) };
  const k = Math.ceil(n / MAX_POINTS);
  const outT: number[] = [];
  const outS: Array<Array<number | null>> = series.map(() => []);
  for (let i = 0; i < n; i += k) {
    outT.push(times[i]!);
    series.forEach((s, j) => {
      let best: number | null = null;
      for (let x = i; x < Math.min(n, i + k); x++) {
        const v = s[x];
        if (v !== null && v !== undefined && (best === null || v > best)) best = v;
      }
      outS[j]!.push(best);
    });
  }
  return { times: outT, series: outS };
}

export function renderChartSvg(spec: ChartSpec): string {
  const tMax = Math.max(1, spec.times.at(-1) ?? 1, ...spec.phases.map((p) => p.end));
  const height = HEADER + spec.panels.length * (PANEL_H + PANEL_GAP) + 10;
  const x = (t: number) => LEFT + (t / tMax) * PLOT_W;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${LEFT}" y="24" font-size="17" font-weight="bold" fill="#111">${esc(spec.title)}</text>`);
  out.push(`<text x="${LEFT}" y="44" font-size="12" fill="#444">${esc(spec.subtitle)}</text>`);

  const xStep = niceStep(tMax, 10);
  spec.panels.forEach((panel, pi) => {
    const top = HEADER + pi * (PANEL_H + PANEL_GAP);
    const bottom = top + PANEL_H;
    const raw = panel.series.map((s) => s.values);
    const { times, series } = decimate(spec.times, raw);
    let max = panel.minMax ?? 1;
    for (const s of series) for (const v of s) if (v !== null && v > max) max = v;
    for (const l of panel.lines ?? []) if (l.value > max) max = l.value;
    const yStep = niceStep(max * 1.05, 5);
    const yMax = Math.ceil((max * 1.05) / yStep) * yStep;
    const y = (v: number) => bottom - (v / yMax) * PANEL_H;

    out.push(`<g>`);
    // Phase bands, labelled on the first panel.
    spec.phases.forEach((ph, i) => {
      const x0 = x(ph.start);
      const w = Math.max(0, x(ph.end) - x0);
      out.push(`<rect x="${x0.toFixed(1)}" y="${top}" width="${w.toFixed(1)}" height="${PANEL_H}" fill="${PHASE_COLORS[i % PHASE_COLORS.length]}"/>`);
      if (pi === 0 && w > ph.name.length * 6.5 + 8) {
        out.push(`<text x="${(x0 + 4).toFixed(1)}" y="${top + 13}" font-size="11" fill="#666">${esc(ph.name)}</text>`);
      }
    });
    out.push(`<text x="${LEFT}" y="${top - 9}" font-size="13" font-weight="bold" fill="#222">${esc(panel.title)}</text>`);
    // Grid and y axis.
    for (let v = 0; v <= yMax + 1e-9; v += yStep) {
      const yy = y(v).toFixed(1);
      out.push(`<line x1="${LEFT}" y1="${yy}" x2="${LEFT + PLOT_W}" y2="${yy}" stroke="#d0d7de" stroke-width="0.6"/>`);
      out.push(`<text x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="10" fill="#555">${fmtTick(v)}</text>`);
    }
    out.push(
      `<text x="14" y="${(top + PANEL_H / 2).toFixed(1)}" font-size="11" fill="#555" transform="rotate(-90 14 ${(top + PANEL_H / 2).toFixed(1)})" text-anchor="middle">${esc(panel.unit)}</text>`,
    );
    for (let t = 0; t <= tMax + 1e-9; t += xStep) {
      const xx = x(t).toFixed(1);
      out.push(`<line x1="${xx}" y1="${bottom}" x2="${xx}" y2="${bottom + 4}" stroke="#888"/>`);
      out.push(`<text x="${xx}" y="${bottom + 16}" text-anchor="middle" font-size="10" fill="#555">${fmtTick(t)}</text>`);
    }
    out.push(`<text x="${LEFT + PLOT_W}" y="${bottom + 30}" text-anchor="end" font-size="10" fill="#555">seconds since start</text>`);
    out.push(`<rect x="${LEFT}" y="${top}" width="${PLOT_W}" height="${PANEL_H}" fill="none" stroke="#888" stroke-width="0.8"/>`);
    // Reference lines.
    for (const l of panel.lines ?? []) {
      const yy = y(l.value).toFixed(1);
      out.push(`<line x1="${LEFT}" y1="${yy}" x2="${LEFT + PLOT_W}" y2="${yy}" stroke="${l.color}" stroke-width="1.4" stroke-dasharray="${l.dash ?? '6 4'}"/>`);
      out.push(`<text x="${LEFT + PLOT_W - 4}" y="${(y(l.value) - 4).toFixed(1)}" text-anchor="end" font-size="10" fill="${l.color}">${esc(l.label)}</text>`);
    }
    // Series.
    panel.series.forEach((s, si) => {
      const vals = series[si]!;
      let d = '';
      let pen = false;
      for (let i = 0; i < vals.length; i++) {
        const v = vals[i];
        if (v === null || v === undefined) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${x(times[i]!).toFixed(1)} ${y(v).toFixed(1)}`;
        pen = true;
      }
      if (d) {
        out.push(
          `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.6}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round"/>`,
        );
      }
    });
    // Legend with each series' peak and last value.
    const lx = LEFT + PLOT_W + 14;
    panel.series.forEach((s, si) => {
      const ly = top + 12 + si * 17;
      const vals = s.values.filter((v): v is number => v !== null);
      const peak = vals.length ? Math.max(...vals) : 0;
      const last = vals.at(-1) ?? 0;
      out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
      out.push(`<text x="${lx + 24}" y="${ly}" font-size="11" fill="#222">${esc(s.name)} <tspan fill="#666">(max ${fmtTick(peak)}, end ${fmtTick(last)})</tspan></text>`);
    });
    out.push(`</g>`);
  });
  out.push(`</svg>`);
  return out.join('\n');
}

export interface HtmlReport {
  title: string;
  ok: boolean;
  verdict: string;
  svg: string;
  table: string;
  failures: string[];
  details: Array<{ heading: string; text: string }>;
}

export function renderHtml(r: HtmlReport): string {
  const failures = r.failures.length
    ? `<h2>Failures</h2><ul>${r.failures.map((f) => `<li><pre>${esc(f)}</pre></li>`).join('')}</ul>`
    : '';
  const details = r.details.map((d) => `<h2>${esc(d.heading)}</h2><pre>${esc(d.text)}</pre>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(r.title)}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1180px; padding: 0 12px; color: #222; }
svg { max-width: 100%; height: auto; }
h1 { font-size: 22px; }
h2 { font-size: 16px; margin-top: 28px; }
pre { background: #f6f8fa; padding: 10px 12px; overflow-x: auto; font-size: 12px; line-height: 1.4; }
.verdict { font-size: 16px; font-weight: bold; padding: 8px 12px; border-radius: 4px; }
.pass { background: #dafbe1; color: #116329; }
.fail { background: #ffebe9; color: #a40e26; }
ul { padding-left: 18px; } li pre { margin: 4px 0; }
</style>
</head>
<body>
<h1>${esc(r.title)}</h1>
<p class="verdict ${r.ok ? 'pass' : 'fail'}">${esc(r.verdict)}</p>
${r.svg}
${failures}
<h2>Summary</h2>
<pre>${esc(r.table)}</pre>
${details}
</body>
</html>
`;
}
