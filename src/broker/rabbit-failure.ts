// Turns a failure of a RabbitMQ call into the protocol's answer: 503 when RabbitMQ (or this
// process's file descriptors, or the store) cannot be reached or did not answer in time, 502
// when it answered with an error. The answer names what failed, never where: node URLs,
// host:port, the admin user (who appears in some paths) and RabbitMQ's reason text stay out of
// it. The failure rides along as `cause`, which the protocol layer writes to the broker log.
import { ManagementClientError, ManagementError, ManagementProtocolError, ManagementTransportError, ManagementUnavailableError } from '../rabbitmq/errors.ts';
import { DeadlineExceededError } from '../deadline/budget.ts';
import { BrokerError, unavailable, upstreamFailure } from '../contract/broker-errors.ts';
import { StoreUnavailableError } from '../store/store-errors.ts';

export function isEmfile(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'EMFILE' || code === 'ENFILE') return true;
  }
  return false;
}

/** The kind of object a management path is about: '/api/permissions/v/u' -> 'permissions'. */
function resource(path: string): string {
  return /^\/api\/([a-z-]+)/.exec(path)?.[1] ?? 'the management API';
}

function publicMessage(err: unknown, doing: string): BrokerError {
  if (isEmfile(err)) return unavailable(`${doing}: the broker is out of file descriptors; try again shortly`);
  if (err instanceof StoreUnavailableError) return unavailable(`${doing}: the broker's database is unavailable; try again shortly`);
  if (err instanceof DeadlineExceededError || (err as { name?: unknown })?.name === 'AbortError') {
    return unavailable(`${doing}: RabbitMQ did not answer in time; try again shortly`);
  }
  if (err instanceof ManagementUnavailableError) return unavailable(`${doing}: the RabbitMQ management API is unreachable; try again shortly`);
  if (err instanceof ManagementError) {
    return upstreamFailure(`${doing}: RabbitMQ answered ${err.status}${err.error ? ` (${err.error})` : ''} to ${err.method} on ${resource(err.path)}; details in the broker log`);
  }
  if (err instanceof ManagementProtocolError) return upstreamFailure(`${doing}: RabbitMQ's answer on ${resource(err.path)} could not be used; details in the broker log`);
  if (err instanceof ManagementTransportError) return upstreamFailure(`${doing}: the exchange with RabbitMQ failed (${err.code}); details in the broker log`);
  if (err instanceof ManagementClientError) return upstreamFailure(`${doing}: the RabbitMQ management API failed; details in the broker log`);
  return new BrokerError(500, 'InternalError', `${doing}: internal error; details in the broker log`);
}

export function toBrokerError(err: unknown, doing: string): BrokerError {
  if (err instanceof BrokerError) return err;
  const answer = publicMessage(err, doing);
  answer.cause = err;
  return answer;
}
