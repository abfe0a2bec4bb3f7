// The shared RabbitMQ's management API now and then answers a list with a 500 while other
// sessions load it; a test's own bookkeeping (orphan scans, cleanup) asks again before failing.
import { setTimeout as sleep } from 'node:timers/promises';

export async function retrying<T>(fn: () => Promise<T>, attempts = 4, pauseMs = 1000): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await sleep(pauseMs);
    }
  }
}
