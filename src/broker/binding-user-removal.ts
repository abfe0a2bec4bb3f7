// The unbind guarantee: the user is deleted AND none of its connections survive. RabbitMQ closes
// a deleted user's connections itself; we also close them by username (never by listing the
// cluster's connections) and then read connection tracking until it reports none.
import { unavailable } from '../osbapi/errors.ts';
import type { BrokerDeps } from './broker-deps.ts';

const REASON = 'binding deleted by the service broker';

export async function removeBindingUser(deps: BrokerDeps, username: string): Promise<void> {
  await deps.rabbit.deleteUser(username);
  await deps.rabbit.closeUserConnections(username, REASON);
  const deadline = Date.now() + deps.rabbitConfig.unbind_confirm_timeout_ms;
  let wait = 10;
  for (;;) {
    const open = await deps.rabbit.listUserConnections(username);
    if (open.length === 0) return;
    if (Date.now() >= deadline) {
      throw unavailable(`${open.length} connection(s) of user ${username} still open after ${deps.rabbitConfig.unbind_confirm_timeout_ms} ms; repeat the request`);
    }
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 200);
    await deps.rabbit.closeUserConnections(username, REASON);
  }
}
