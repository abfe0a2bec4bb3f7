// RLIMIT_NOFILE of a process, from /proc/<pid>/limits (readable for any process).
import { readFileSync } from 'node:fs';

export interface NofileLimits {
  soft: number | 'unlimited';
  hard: number | 'unlimited';
}

function limitValue(text: string): number | 'unlimited' {
  return text === 'unlimited' ? 'unlimited' : Number(text);
}

/** Parses the "Max open files  <soft>  <hard>  files" line; null if absent. */
export function parseNofileLimits(text: string): NofileLimits | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith('Max open files')) continue;
    const [soft, hard] = line.slice('Max open files'.length).trim().split(/\s+/);
    if (soft === undefined || hard === undefined) return null;
    return { soft: limitValue(soft), hard: limitValue(hard) };
  }
  return null;
}

export function readNofileLimits(pid: number): NofileLimits | null {
  try {
    return parseNofileLimits(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  } catch {
    return null;
  }
}
