// Warren under `node --cpu-prof` (a node flag, not allowed in NODE_OPTIONS), started by the
// shared harness. The profile is written when it exits (stop()).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import { launchOptions } from './warren-target.ts';

/** root: profile the warren checked out there instead (the --baseline checkout). */
export function startProfiledWarren(profileDir: string, env: Record<string, string> = {}, root?: string): Promise<WarrenProcess> {
  return startWarrenProcess({
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`], env: { ...env, WARREN_LOG_LEVEL: 'warn' }, ...launchOptions(root),
  });
}

/**
 * The newest main-thread .cpuprofile in the directory. Node writes one per thread
 * (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile); thread 0 is warren itself, thread 1 is
 * the module-loader hooks thread that tsx registers (with --tsx).
 */
export function newestProfile(dir: string): string | undefined {
  const main = readdirSync(dir)
    .filter((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f))
    .sort();
  return main.length ? join(dir, main[main.length - 1]!) : undefined;
}
