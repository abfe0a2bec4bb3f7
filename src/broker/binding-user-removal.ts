// The unbind guarantee: the user is deleted AND none of its connections survive. RabbitMQ closes
// a deleted user's connections itself; connection tracking (by username, never a cluster-wide
// list) must then report none, and whatever it still lists is closed by username until it does.
import { unavailable } from '../contract/broker-errors.ts';
import { ManagementError } from '../rabbitmq/errors.ts';
import type { ConnectionRef } from '../rabbitmq/management-api.ts';
import type { BrokerDeps } from './broker-deps.ts';

const REASON = 'binding deleted by the service broker';

/**
 * A connection that authenticated just before the user was deleted can reach connection
 * tracking a few milliseconds later (measured under load in the soak): neither the deletion nor
 * the count saw it. One later look closes such a straggler by username. It is recorded with the
 * operation (followup_at), so whichever replica runs the background jobs makes it, even if the
 * one that answered the unbind has stopped.
 */
export const LATE_LOOK_MS = 500;
export const lateLookAt = (): string => new Date(Date.now() + LATE_LOOK_MS).toISOString();

/**
 * RabbitMQ 3.10 sometimes answers 500 to closing connections that are already closing (the
 * user's deletion closes them): that is not a failure, the count that follows is the proof.
 */
const closeConnections = (deps: BrokerDeps, username: string) =>
  deps.rabbit.closeUserConnections(username, REASON).catch((err: Error) => {
    deps.log.debug({ username, err: err.message }, 'closing connections by username failed; checking what is left');
  });

/**
 * RabbitMQ can answer 500 to deleting a user that is already gone (an earlier attempt, or a
 * concurrent one, deleted it): the user's absence afterwards is the proof, not the status.
 */
async function deleteUser(deps: BrokerDeps, username: string): Promise<void> {
  try {
    await deps.rabbit.deleteUser(username);
  } catch (err) {
    if (!(err instanceof ManagementError && err.status >= 500) || (await deps.rabbit.getUser(username)) !== null) throw err;
    deps.log.debug({ username, err: err.message }, 'deleting the user failed, but it is gone');
  }
}

/**
 * RabbitMQ up to 3.10 registers and unregisters a tracked connection in two processes spawned
 * per event: when a connection closes right after it opened, the removal can run first and the
 * entry stays in tracking for good (a "ghost", seen in CI after a login check). Nothing can close
 * it, so the unbind would answer 503 forever. A ghost is proven by statistics: they learn of a
 * live connection within collect_statistics_interval and drop it as soon as it closes. Once the
 * user has been gone longer than that (plus a margin), a listed connection that statistics do not
 * know is not a connection. Measured lag of statistics here: 1.4-4.3 s at the 5 s default.
 */
const STATISTICS_MARGIN_MS = 1500;

/**
 * The first listed connection that statistics know as this user's: a live one. Matched on the
 * user too, since a name (client address and port) can be reused by another user's connection.
 */
async function liveOne(deps: BrokerDeps, username: string, open: ConnectionRef[]): Promise<ConnectionRef | undefined> {
  for (const c of open) {
    if ((await deps.rabbit.connectionInStatistics(c.name))?.user === username) return c;
  }
  return undefined;
}

export async function removeBindingUser(deps: BrokerDeps, username: string): Promise<void> {
  await deleteUser(deps, username);
  const deletedAt = Date.now();
  // Deleting the user already closes its connections; what tracking still lists is closed by name.
  const deadline = deletedAt + deps.rabbitSettings.unbindConfirmTimeoutMs;
  const ghostsProvableAt = deletedAt + deps.rabbitSettings.statisticsIntervalMs + STATISTICS_MARGIN_MS;
  let wait = 10;
  for (;;) {
    const open = await deps.rabbit.listUserConnections(username);
    if (open.length === 0) return;
    const now = Date.now();
    if (now >= deadline) {
      const stillOpen = () => unavailable(`${open.length} connection(s) of user ${username} still open after ${deps.rabbitSettings.unbindConfirmTimeoutMs} ms; repeat the request`);
      if (await liveOne(deps, username, open)) throw stillOpen();
      if (now >= ghostsProvableAt) {
        // Without statistics (management.disable_stats) a 404 proves nothing.
        if ((await deps.rabbit.overview()).disable_stats === true) throw stillOpen();
        const ghosts = open.map((c) => ({ name: c.name, node: c.node }));
        deps.log.warn({ username, ghosts }, 'connection tracking lists connections that no longer exist (RabbitMQ <= 3.10 tracking race); the user is gone');
        return;
      }
    }
    await closeConnections(deps, username);
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 200);
  }
}

/** The late look itself: closes whatever tracking lists for a deleted user now. */
export async function lateLook(deps: BrokerDeps, username: string): Promise<void> {
  const open = await deps.rabbit.listUserConnections(username);
  if (open.length > 0) {
    deps.log.warn({ username, connections: open.length }, 'closing connections of a deleted user that connection tracking listed late');
    await closeConnections(deps, username);
  }
}
