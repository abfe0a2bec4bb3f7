// Turns a failure of a RabbitMQ call into the protocol's answer: 503 when RabbitMQ (or this
// process's file descriptors) cannot be reached, 502 when it answered with an error.
// Messages come from the management client, which never puts credentials in them.
import { ManagementClientError, ManagementError, ManagementUnavailableError } from '../rabbitmq/errors.ts';
import { DeadlineExceededError } from '../deadline/budget.ts';
import { BrokerError, unavailable, upstreamFailure } from '../osbapi/errors.ts';
import { StoreUnavailableError } from '../store/store-errors.ts';

export function isEmfile(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'EMFILE' || code === 'ENFILE') return true;
  }
  return false;
}

export function toBrokerError(err: unknown, doing: string): BrokerError {
  if (err instanceof BrokerError) return err;
  if (isEmfile(err)) return unavailable(`${doing}: the broker is out of file descriptors; try again shortly`);
  if (err instanceof StoreUnavailableError) return unavailable(`${doing}: the broker's database is unavailable; try again shortly`);
  if (err instanceof DeadlineExceededError || (err as { name?: unknown })?.name === 'AbortError') {
    return unavailable(`${doing}: RabbitMQ did not answer in time; try again shortly`);
  }
  if (err instanceof ManagementUnavailableError) return unavailable(`${doing}: RabbitMQ management API unreachable (${err.message})`);
  if (err instanceof ManagementError) return upstreamFailure(`${doing}: ${err.message}`);
  if (err instanceof ManagementClientError) return upstreamFailure(`${doing}: ${err.message}`);
  return new BrokerError(500, 'InternalError', `${doing}: ${(err as Error)?.message ?? String(err)}`);
}

/** A 404 from RabbitMQ, e.g. the vhost vanished under us. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ManagementError && err.status === 404;
}
