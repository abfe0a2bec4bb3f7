// The unbind guarantee: the user is deleted AND none of its connections survive. RabbitMQ closes
// a deleted user's connections itself; connection tracking (by username, never a cluster-wide
// list) must then report none, and whatever it still lists is closed by username until it does.
import { unavailable } from '../osbapi/errors.ts';
import type { BrokerDeps } from './broker-deps.ts';

const REASON = 'binding deleted by the service broker';

/**
 * RabbitMQ 3.10 sometimes answers 500 to closing connections that are already closing (the
 * user's deletion closes them): that is not a failure, the count that follows is the proof.
 */
const closeConnections = (deps: BrokerDeps, username: string) =>
  deps.rabbit.closeUserConnections(username, REASON).catch((err: Error) => {
    deps.log.debug({ username, err: err.message }, 'closing connections by username failed; checking what is left');
  });

export async function removeBindingUser(deps: BrokerDeps, username: string): Promise<void> {
  await deps.rabbit.deleteUser(username);
  // Deleting the user already closes its connections; what tracking still lists is closed by name.
  const deadline = Date.now() + deps.rabbitConfig.unbind_confirm_timeout_ms;
  let wait = 10;
  for (;;) {
    const open = await deps.rabbit.listUserConnections(username);
    if (open.length === 0) {
      sweepStragglers(deps, username);
      return;
    }
    if (Date.now() >= deadline) {
      throw unavailable(`${open.length} connection(s) of user ${username} still open after ${deps.rabbitConfig.unbind_confirm_timeout_ms} ms; repeat the request`);
    }
    await closeConnections(deps, username);
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 200);
  }
}

/**
 * A connection that authenticated just before the user was deleted can reach connection
 * tracking a few milliseconds later (measured under load in the soak): neither the deletion nor
 * the count saw it. One later look (after the answer, off the request's latency) closes such a
 * straggler by username. The timers do not keep the process alive; a look after shutdown fails
 * quietly.
 */
const STRAGGLER_CHECKS_MS = [500];

function sweepStragglers(deps: BrokerDeps, username: string, attempt = 0): void {
  const delay = STRAGGLER_CHECKS_MS[attempt];
  if (delay === undefined) return;
  setTimeout(() => {
    deps.rabbit.listUserConnections(username).then(
      async (open) => {
        if (open.length > 0) {
          deps.log.warn({ username, connections: open.length }, 'closing connections of a deleted user that connection tracking listed late');
          await closeConnections(deps, username);
        }
        sweepStragglers(deps, username, attempt + 1);
      },
      () => undefined,
    );
  }, delay).unref();
}
