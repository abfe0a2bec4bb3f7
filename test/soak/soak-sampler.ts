// Samples the warren process from outside while the soak runs: fds by kind, TCP sockets by
// state (all, to the management node, accepted OSBAPI ones), unread sockets, the leak classes
// of the last second, RSS, and warren's own warnings and errors. Also prints progress lines.
import { findLeaks, takeSnapshot, type LeakClass, type Snapshot } from '../../packages/leakguard/src/index.ts';
import type { SoakRun } from './soak-state.ts';
import { fmtDuration, mb, readRssKb } from './soak-support.ts';

const MAX_SAMPLES = 50_000;
/** Snapshots the rolling leak verdict is judged over (about a second at the default interval). */
const WINDOW = 4;

export class Sampler {
  private readonly window: Snapshot[] = [];
  private logScanned = 0;
  private lastProgress = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly run: SoakRun) {}

  /** Samples now, then every sampleIntervalMs (with a progress line when one is due). */
  start(): void {
    this.sampleOnce();
    this.timer = setInterval(() => {
      this.sampleOnce();
      this.progress();
    }, this.run.o.sampleIntervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  sampleOnce(): void {
    const run = this.run;
    const { warren, result } = run;
    if (!warren || run.warrenGone) return;
    let snap: Snapshot;
    try {
      snap = takeSnapshot(warren.pid);
    } catch {
      return; // gone: the exit handler reports it
    }
    if (!snap.fds) {
      run.fail(`cannot read /proc/${warren.pid}/fd (permission denied): the soak must run as the same user as warren`);
      run.stop('fd access denied');
      return;
    }

    this.window.push(snap);
    if (this.window.length > WINDOW) this.window.shift();
    const states: Record<string, number> = {};
    const mgmt: Record<string, number> = {};
    const inbound: Record<string, number> = {};
    let unread = 0;
    for (const s of snap.sockets) {
      states[s.state] = (states[s.state] ?? 0) + 1;
      if (s.direction === 'out' && s.remotePort === run.mgmtPort) mgmt[s.state] = (mgmt[s.state] ?? 0) + 1;
      if (s.direction === 'in') inbound[s.state] = (inbound[s.state] ?? 0) + 1;
      if (s.state === 'CLOSE_WAIT' || (s.state === 'ESTABLISHED' && s.rxQueue > 0)) unread++;
    }
    const judged = this.window.length >= 2 ? findLeaks(this.window) : undefined;
    const rolling = judged?.counts ?? { 'close-wait': 0, 'stuck-rx': 0, ghost: 0 };
    const rollingGroups = judged?.groups.length ? judged.groups.map((g) => `${g.leakClass} ${g.count} ${g.direction} ${g.peer} rx ${g.rxBytes} inode ${g.inodes.join(',')}`) : undefined;
    if (run.phase === 'run' || run.phase === 'warm-up') {
      for (const k of Object.keys(rolling) as LeakClass[]) result.maxRollingLeaks[k] = Math.max(result.maxRollingLeaks[k], rolling[k]);
    }
    if (result.samples.length < MAX_SAMPLES) {
      result.samples.push({
        t: run.since(),
        phase: run.phase,
        fds: { ...snap.fds },
        soft: typeof snap.limits?.soft === 'number' ? snap.limits.soft : null,
        states,
        mgmt,
        inbound,
        unread,
        rolling,
        ...(rollingGroups ? { rollingGroups } : {}),
        rssKb: readRssKb(warren.pid),
      });
    }
    this.scanWarrenLog();
  }

  /** Counts warren's warnings and errors, keeping a few, and keeps its log's memory bounded. */
  private scanWarrenLog(): void {
    const logs = this.run.warren!.logs;
    const counts = this.run.result.warrenLog;
    for (; this.logScanned < logs.length; this.logScanned++) {
      const line = logs[this.logScanned]!;
      const m = /"level":(\d+)/.exec(line);
      const level = m ? Number(m[1]) : 0;
      if (level >= 50) counts.errors++;
      else if (level >= 40) counts.warnings++;
      if (level >= 40 && counts.examples.length < 10) counts.examples.push(line.slice(0, 400));
    }
    if (logs.length > 2000) {
      logs.splice(0, logs.length - 200);
      this.logScanned = logs.length;
    }
  }

  /** One progress line every progressEveryMs at most. */
  progress(): void {
    const { o, result, phase } = this.run;
    const now = this.run.since();
    if (now - this.lastProgress < o.progressEveryMs) return;
    this.lastProgress = now;
    const s = result.samples.at(-1);
    const done = phase === 'run' ? result.cycles.run : result.cycles.warmup;
    const target = phase === 'run' ? o.cycles : o.warmupCycles;
    o.log(
      `[soak ${fmtDuration(now)}] ${phase}${phase === 'run' || phase === 'warm-up' ? ` ${done}/${target} cycles` : ''}` +
        (s ? `, fds ${s.fds.total}/${s.soft ?? '?'}, sockets ${Object.entries(s.states).map(([k, v]) => `${k} ${v}`).join(' ')}, rss ${s.rssKb ? mb(s.rssKb) : '?'} MB` : '') +
        (result.unexpected.count ? `, UNEXPECTED ${result.unexpected.count}` : ''),
    );
  }
}
