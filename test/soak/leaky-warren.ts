// `warren serve` with a management client that skips a single body: every Nth deleteUser (that
// is, every Nth unbind) it also sends one GET to the same management node through its own undici
// Pool and never reads, dumps or cancels the response body. Everything else is the real client.
//
// The body must be large to leak: RabbitMQ's API answers are a few KiB and fit the socket
// buffers, so an unread small body releases its socket anyway (see
// /work/shared/notes/sockets-and-fds.md). The management plugin serves jquery-3.5.1.js
// (287 KiB), which does not fit, so each skipped body holds one socket (and one fd) for good:
// ESTABLISHED with unread bytes (stuck-rx) until the server gives up, then CLOSE_WAIT.
//
// Environment:
//   WARREN_LEAKY_EVERY  leak on every Nth deleteUser (default 25)
//   WARREN_LEAKY_MAX    stop after this many leaked bodies (default unlimited)
//   WARREN_LEAKY_PATH   what to GET (default /js/jquery-3.5.1.js)
// Run by the soak: npm run soak -- --entry test/soak/leaky-warren.ts
import { Pool } from 'undici';
import type { AppManagementClient } from '../../src/app/start-warren.ts';
import { serve } from '../../src/cli/serve.ts';

const every = Math.max(1, Number(process.env.WARREN_LEAKY_EVERY ?? 25) || 25);
const maxLeaks = process.env.WARREN_LEAKY_MAX ? Number(process.env.WARREN_LEAKY_MAX) : Infinity;
const leakPath = process.env.WARREN_LEAKY_PATH ?? '/js/jquery-3.5.1.js';

function leaky(real: AppManagementClient): AppManagementClient {
  // The same node the real client talks to (its origin carries no credentials).
  const origin = real.stats().nodes[0]?.origin;
  if (!origin) throw new Error('leaky-warren: the management client has no node');
  // No connection limit: every unread response keeps its socket, so each leak opens a new one.
  const pool = new Pool(new URL(origin).origin, { connections: null });
  const held: unknown[] = []; // the unread bodies, kept referenced so nothing collects them
  let deletes = 0;
  let leaked = 0;
  let failed = 0;

  async function skipOneBody(): Promise<void> {
    try {
      const res = await pool.request({ path: leakPath, method: 'GET' });
      held.push(res.body); // never read, never dumped, never destroyed: the bug under test
      leaked++;
    } catch {
      failed++; // e.g. EMFILE once the leak has eaten the fds; warren itself will notice
    }
  }

  const deleteUser: AppManagementClient['deleteUser'] = async (user) => {
    const result = await real.deleteUser(user);
    if (++deletes % every === 0 && leaked < maxLeaks) await skipOneBody();
    return result;
  };

  const close: AppManagementClient['close'] = async () => {
    process.stderr.write(`leaky-warren: skipped ${leaked} response bodies (${failed} leak requests failed)\n`);
    await real.close();
    await pool.destroy(); // close() would wait for the unread responses forever
  };

  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'deleteUser') return deleteUser;
      if (prop === 'close') return close;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const configAt = process.argv.indexOf('--config');
process.exitCode = await serve({
  configFile: configAt >= 0 ? process.argv[configAt + 1] : undefined,
  overrides: { wrapRabbit: leaky },
});
