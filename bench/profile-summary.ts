// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by category (warren's modules,
// each package, node internals, GC, idle) and the top functions by self and total time.
//   node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top N] [--ops N] [--from-ms MS] [--to-ms MS] [--json]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ProfileFunction, ProfileSummary } from './lib/results.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const ROOT = new URL('../', import.meta.url).href;

/** Where a frame belongs: a warren module, a package, node itself, or a VM pseudo-frame. */
export function category(cf: CallFrame): string {
  const url = cf.url;
  if (!url) {
    if (cf.functionName === '(idle)') return '(idle)';
    if (cf.functionName === '(garbage collector)') return '(garbage collector)';
    if (cf.functionName === '(program)') return '(program: VM, native, unattributed)';
    if (cf.functionName === '(root)') return '(root)';
    return 'native (V8 builtins, C++ addons)';
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return `npm ${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (url.startsWith('node:')) return 'node internals';
  const rel = url.startsWith(ROOT) ? url.slice(ROOT.length) : url;
  const src = /^src\/([^/]+)\/([^/?]+)/.exec(rel);
  if (src) return `warren src/${src[1]}/${src[2]!.replace(/\.ts$/, '')}`;
  return rel.startsWith('file://') ? basename(rel) : rel;
}

function where(cf: CallFrame): string {
  if (!cf.url) return '';
  const nm = cf.url.lastIndexOf('/node_modules/');
  const short = nm >= 0 ? cf.url.slice(nm + '/node_modules/'.length) : cf.url.startsWith(ROOT) ? cf.url.slice(ROOT.length) : cf.url.replace(/^node:/, 'node:');
  // tsx-transpiled modules report every function at line 0: the name says more than ":1".
  return cf.lineNumber > 0 ? `${short}:${cf.lineNumber + 1}` : short;
}

/**
 * `fromMs`/`toMs` keep only samples in that window (ms since the profile started), e.g. to leave
 * out the process's start-up (module loading, TypeScript transpiling) and shutdown.
 */
export function summarizeProfile(
  profile: CpuProfile,
  file: string,
  opts: { top?: number; ops?: number; fromMs?: number; toMs?: number } = {},
): ProfileSummary {
  const top = opts.top ?? 25;
  const fromMs = opts.fromMs ?? 0;
  const toMs = opts.toMs ?? Number.POSITIVE_INFINITY;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) byId.set(n.id, n);
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfByNode = new Map<number, number>();
  // timeDeltas[i] is the time since the previous sample; attribute it to sample i (as DevTools does).
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const dt = Math.max(0, profile.timeDeltas[i] ?? 0) / 1000;
    at += dt;
    if (at < fromMs || at > toMs) continue;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + dt);
  }

  const key = (cf: CallFrame) => `${cf.functionName || '(anonymous)'}\u0000${cf.url}\u0000${cf.lineNumber}`;
  const fnSelf = new Map<string, { cf: CallFrame; self: number; total: number }>();
  const cats = new Map<string, number>();
  let durationMs = 0;
  let idleMs = 0;
  let gcMs = 0;
  for (const [id, ms] of selfByNode) {
    const cf = byId.get(id)!.callFrame;
    durationMs += ms;
    const cat = category(cf);
    if (cat === '(idle)') idleMs += ms;
    if (cat === '(garbage collector)') gcMs += ms;
    cats.set(cat, (cats.get(cat) ?? 0) + ms);
    const k = key(cf);
    const e = fnSelf.get(k) ?? { cf, self: 0, total: 0 };
    e.self += ms;
    fnSelf.set(k, e);
  }
  // Total (inclusive) time: each sample counts once for every distinct function on its stack.
  for (const [id, ms] of selfByNode) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      const k = key(cf);
      if (seen.has(k)) continue;
      seen.add(k);
      const e = fnSelf.get(k) ?? { cf, self: 0, total: 0 };
      e.total += ms;
      fnSelf.set(k, e);
    }
  }
  // Node internals and native code (socket writes, crypto, SQLite's C code) charged to whoever
  // called them: the nearest frame on the stack that is warren's or a package's.
  const owners = new Map<string, number>();
  const ownerOf = new Map<number, string>();
  const owner = (id: number): string => {
    const known = ownerOf.get(id);
    if (known !== undefined) return known;
    const cat = category(byId.get(id)!.callFrame);
    let result = cat;
    if (!cat.startsWith('npm ') && !cat.startsWith('warren ') && !cat.startsWith('(')) {
      const up = parent.get(id);
      const upOwner = up === undefined ? undefined : owner(up);
      if (upOwner && (upOwner.startsWith('npm ') || upOwner.startsWith('warren '))) result = upOwner;
    }
    ownerOf.set(id, result);
    return result;
  };
  for (const [id, ms] of selfByNode) {
    const o = owner(id);
    owners.set(o, (owners.get(o) ?? 0) + ms);
  }
  const activeMs = durationMs - idleMs;
  const fns = [...fnSelf.values()].filter((e) => !['(idle)', '(root)', '(program)', '(garbage collector)'].includes(e.cf.functionName) || e.self > 0);
  const toFn = (e: { cf: CallFrame; self: number; total: number }): ProfileFunction => ({
    name: e.cf.functionName || '(anonymous)',
    where: where(e.cf),
    selfMs: e.self,
    selfPct: activeMs > 0 ? (100 * e.self) / activeMs : 0,
    totalMs: e.total,
  });
  const topSelf = fns.filter((e) => e.cf.functionName !== '(idle)').sort((a, b) => b.self - a.self).slice(0, top).map(toFn);
  const topWarren = fns.filter((e) => e.cf.url.startsWith(ROOT + 'src/')).sort((a, b) => b.total - a.total).slice(0, top).map(toFn);
  const byCategory = [...cats.entries()]
    .filter(([c]) => c !== '(idle)' && c !== '(root)')
    .sort((a, b) => b[1] - a[1])
    .map(([c, ms]) => ({ category: c, selfMs: ms, pctOfActive: activeMs > 0 ? (100 * ms) / activeMs : 0 }));
  const byOwner = [...owners.entries()]
    .filter(([c]) => c !== '(idle)' && c !== '(root)')
    .sort((a, b) => b[1] - a[1])
    .map(([c, ms]) => ({ category: c, selfMs: ms, pctOfActive: activeMs > 0 ? (100 * ms) / activeMs : 0 }));
  return {
    file,
    durationMs,
    idleMs,
    activeMs,
    gcMs,
    ...(opts.ops ? { ops: opts.ops, activeUsPerOp: (activeMs * 1000) / opts.ops } : {}),
    byCategory,
    byOwner,
    top: topSelf,
    topWarren,
  };
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

function printSummary(s: ProfileSummary): void {
  const f = (x: number, d = 1) => x.toFixed(d);
  const out: string[] = [];
  out.push(`${s.file}`);
  out.push(`duration ${f(s.durationMs, 0)} ms, active (not idle) ${f(s.activeMs, 0)} ms, GC ${f(s.gcMs, 0)} ms${s.ops ? `, ${s.ops} ops -> ${f(s.activeUsPerOp ?? 0, 0)} µs active CPU per op` : ''}`);
  out.push('', 'self time by category (% of active):');
  for (const c of s.byCategory) out.push(`  ${f(c.selfMs, 0).padStart(7)} ms  ${f(c.pctOfActive).padStart(5)}%  ${c.category}`);
  out.push('', 'self time charged to the nearest warren or package frame (node internals and native code go to their caller):');
  for (const c of s.byOwner) out.push(`  ${f(c.selfMs, 0).padStart(7)} ms  ${f(c.pctOfActive).padStart(5)}%  ${c.category}`);
  out.push('', 'top functions by self time:');
  for (const t of s.top) out.push(`  ${f(t.selfMs, 0).padStart(7)} ms  ${f(t.selfPct).padStart(5)}%  total ${f(t.totalMs, 0).padStart(6)} ms  ${t.name}  ${t.where}`);
  out.push('', "warren's own functions (src/) by total time:");
  for (const t of s.topWarren) out.push(`  total ${f(t.totalMs, 0).padStart(6)} ms  self ${f(t.selfMs).padStart(6)} ms  ${t.name}  ${t.where}`);
  process.stdout.write(out.join('\n') + '\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  if (args.length === 0 || args.includes('--help')) {
    process.stdout.write('Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top N] [--ops N] [--from-ms MS] [--to-ms MS] [--json]\n');
    process.exit(args.length === 0 ? 2 : 0);
  }
  const opt = (n: string) => {
    const i = args.indexOf(n);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const file = args.find((a, i) => !a.startsWith('--') && !['--top', '--ops', '--from-ms', '--to-ms'].includes(args[i - 1] ?? ''))!;
  const summary = summarizeProfile(readProfile(file), file, {
    top: opt('--top') ?? 25, ops: opt('--ops'), fromMs: opt('--from-ms'), toMs: opt('--to-ms'),
  });
  if (args.includes('--json')) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else printSummary(summary);
}
