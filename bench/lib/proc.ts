// What /proc says about a process: CPU seconds (utime + stime) and resident memory.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime and stime of the process in seconds (NaN when it is gone). */
export function cpuTimes(pid: number): { user: number; sys: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of the full line (utime, stime) are 11 and 12 after "pid (comm)".
    return { user: Number(fields[11]) / clockTicks(), sys: Number(fields[12]) / clockTicks() };
  } catch {
    return { user: Number.NaN, sys: Number.NaN };
  }
}

/** utime + stime of the process in seconds, or NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.sys;
}

/** VmRSS in MiB, or NaN when the process is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The RabbitMQ node's Erlang VM (beam.smp), to show how busy RabbitMQ itself was. */
export function findBeamPid(): number | undefined {
  let best: { pid: number; cpu: number } | undefined;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() !== 'beam.smp') continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (!cmd.includes('rabbit')) continue;
      const cpu = cpuSeconds(Number(name));
      if (!best || cpu > best.cpu) best = { pid: Number(name), cpu };
    } catch {
      /* gone or not ours to read */
    }
  }
  return best?.pid;
}

/**
 * CPU seconds of every PostgreSQL server process on this machine (comm "postgres": backends,
 * WAL writer, checkpointer, autovacuum), by pid: what the store costs the machine.
 */
export function postgresCpuByPid(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() !== 'postgres') continue;
      const cpu = cpuSeconds(Number(name));
      if (Number.isFinite(cpu)) out.set(Number(name), cpu);
    } catch {
      /* gone or not ours to read */
    }
  }
  return out;
}

/**
 * PostgreSQL's CPU seconds between two readings: what each process that is still there spent
 * since the first (all of it for one that started since). A process that exited in between
 * takes its seconds with it: never a negative figure, at worst a little low.
 */
export function postgresCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, cpu] of after) sum += Math.max(0, cpu - (before.get(pid) ?? 0));
  return sum;
}

/** The driver's own CPU seconds (this process). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
