// Polls a probe until it answers something other than undefined, or fails the test after `ms`.
import { setTimeout as sleep } from 'node:timers/promises';

export async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>, everyMs = 200): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
