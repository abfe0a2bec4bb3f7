// The one SVG renderer of tests, soak and bench: self-contained charts (no scripts, fonts or
// other external assets) to inline in an HTML report. Time-series panels (the soak's fds,
// sockets and RSS over time), grouped bars (the bench's rates and latencies) and x/y lines
// (the bench's memory by operations) share escaping, axis steps, number labels and paths.

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

/** A round step (1, 2, 2.5 or 5 times a power of ten) that covers max in about `ticks` steps. */
export function niceStep(max: number, ticks: number): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const f = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
  return f * mag;
}

function fmtTick(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** A measured value with about three significant digits. */
export function fmtValue(x: number): string {
  return x === 0 ? '0' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(2);
}

/** An SVG path through the points; a null y lifts the pen, so gaps stay gaps. */
function linePath(points: ReadonlyArray<readonly [number, number | null]>): string {
  let d = '';
  let pen = false;
  for (const [px, py] of points) {
    if (py === null) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${px.toFixed(1)} ${py.toFixed(1)}`;
    pen = true;
  }
  return d;
}

function svgRoot(width: number, height: number, title: string, extra = ''): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}"${extra}>`;
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

/** Stacked panels sharing one time axis, with phase bands and a legend of peak and last values. */
export function renderChartSvg(spec: ChartSpec): string {
  const tMax = Math.max(1, spec.times.at(-1) ?? 1, ...spec.phases.map((p) => p.end));
  const height = HEADER + spec.panels.length * (PANEL_H + PANEL_GAP) + 10;
  const x = (t: number) => LEFT + (t / tMax) * PLOT_W;
  const out: string[] = [];
  out.push(svgRoot(WIDTH, height, spec.title, ' font-family="Helvetica, Arial, sans-serif" font-size="12"'));
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
      const d = linePath(series[si]!.map((v, i) => [x(times[i]!), v === null || v === undefined ? null : y(v)] as const));
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

export interface BarSeries {
  name: string;
  color: string;
  values: number[];
  /** Drawn as a tick above the bar (e.g. p99 over a p50 bar). */
  whiskers?: number[];
}

/** Bars grouped by category, one per series, with optional whisker ticks; log scale on request. */
export function barChart(title: string, categories: string[], series: BarSeries[], yLabel: string, log = false): string {
  const W = 560, H = 300, L = 60, R = 12, T = 34, B = 58;
  const pw = W - L - R, ph = H - T - B;
  const all = series.flatMap((s) => [...s.values, ...(s.whiskers ?? [])]).filter((v) => Number.isFinite(v) && (!log || v > 0));
  const top = Math.max(...all);
  const decade = 10 ** Math.floor(Math.log10(top));
  const max = log ? [1, 2, 5, 10].map((m) => m * decade).find((v) => v >= top)! : niceStep(top, 1);
  const min = log ? 10 ** Math.floor(Math.log10(Math.min(...all))) : 0;
  const y = log
    ? (v: number) => T + ph - ((Math.log10(Math.max(min, v)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))) * ph
    : (v: number) => T + ph - (Math.max(0, v) / max) * ph;
  const groupW = pw / categories.length;
  const barW = Math.min(44, (groupW * 0.75) / series.length);
  const parts: string[] = [
    svgRoot(W, H, title),
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
    parts.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#495057">${fmtValue(v)}</text>`);
  }
  parts.push(`<text transform="translate(14 ${T + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11" fill="#495057">${esc(yLabel)}</text>`);
  categories.forEach((cat, ci) => {
    const gx = L + ci * groupW + (groupW - barW * series.length) / 2;
    series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === undefined || !Number.isFinite(v)) return;
      const x = gx + si * barW;
      parts.push(`<rect x="${x + 2}" y="${y(v)}" width="${barW - 4}" height="${T + ph - y(v)}" fill="${s.color}"><title>${esc(`${s.name} ${cat}: ${fmtValue(v)}`)}</title></rect>`);
      const wv = s.whiskers?.[ci];
      if (wv !== undefined && Number.isFinite(wv)) {
        const cx = x + barW / 2;
        parts.push(`<line x1="${cx}" x2="${cx}" y1="${y(v)}" y2="${y(wv)}" stroke="#212529" stroke-width="1"/>`);
        parts.push(`<line x1="${cx - 6}" x2="${cx + 6}" y1="${y(wv)}" y2="${y(wv)}" stroke="#212529" stroke-width="2"><title>${esc(`${s.name} ${cat} p99: ${fmtValue(wv)}`)}</title></line>`);
      }
      parts.push(`<text x="${x + barW / 2}" y="${y(v) - 3}" text-anchor="middle" font-size="${series.length > 3 ? 8 : 10}">${fmtValue(v)}</text>`);
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

export interface XYSeries {
  name: string;
  color: string;
  xy: Array<[number, number]>;
}

/** Lines through x/y points with a dot (and tooltip) at each, from zero on both axes. */
export function lineChart(title: string, points: XYSeries[], xLabel: string, yLabel: string, unit: string): string {
  const W = 560, H = 280, L = 60, R = 16, T = 34, B = 48;
  const pw = W - L - R, ph = H - T - B;
  const xs = points.flatMap((p) => p.xy.map((q) => q[0]));
  const ys = points.flatMap((p) => p.xy.map((q) => q[1]));
  const xTop = Math.max(...xs);
  const xDecade = 10 ** Math.floor(Math.log10(xTop || 1));
  const xMax = [1, 1.2, 1.6, 2, 3, 4, 5, 6, 8, 10].map((m) => m * xDecade).find((v) => v >= xTop) ?? xTop;
  const yMax = niceStep(Math.max(...ys) * 1.1, 1);
  const X = (v: number) => L + (v / xMax) * pw;
  const Y = (v: number) => T + ph - (v / yMax) * ph;
  const parts = [
    svgRoot(W, H, title),
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${Y(v)}" y2="${Y(v)}" stroke="#e9ecef"/><text x="${L - 6}" y="${Y(v) + 4}" text-anchor="end" font-size="11">${fmtValue(v)}</text>`);
    const xv = (xMax / 4) * i;
    parts.push(`<text x="${X(xv)}" y="${T + ph + 16}" text-anchor="middle" font-size="11">${fmtValue(xv)}</text>`);
  }
  parts.push(`<text x="${L + pw / 2}" y="${H - 8}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${T + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(yLabel)}</text>`);
  for (const p of points) {
    parts.push(`<path d="${linePath(p.xy.map(([x, y]) => [X(x), Y(y)] as const))}" fill="none" stroke="${p.color}" stroke-width="2"/>`);
    for (const [x, y] of p.xy) parts.push(`<circle cx="${X(x)}" cy="${Y(y)}" r="3" fill="${p.color}"><title>${esc(`${p.name}: ${x} ${xLabel}, ${fmtValue(y)} ${unit}`)}</title></circle>`);
  }
  parts.push(`<line x1="${L}" x2="${W - R}" y1="${T + ph}" y2="${T + ph}" stroke="#495057"/>`);
  points.forEach((p, i) => parts.push(`<rect x="${L + 10 + (i % 3) * 160}" y="${T + 4 + Math.floor(i / 3) * 16}" width="12" height="12" fill="${p.color}"/><text x="${L + 26 + (i % 3) * 160}" y="${T + 14 + Math.floor(i / 3) * 16}" font-size="12">${esc(p.name)}</text>`));
  parts.push('</svg>');
  return parts.join('');
}
