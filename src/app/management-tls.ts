// TLS options of the management client for https management URLs, from the configuration:
// the server and `warren reconcile` reach RabbitMQ the same way.
import { readFileSync } from 'node:fs';
import type { WarrenConfig } from '../config/config-types.ts';

/** TLS options of the management client for https management URLs (also used by `warren reconcile`). */
export function managementTls(t: NonNullable<WarrenConfig['rabbitmq']['management_tls']>) {
  return {
    rejectUnauthorized: t.reject_unauthorized,
    ...(t.ca_file ? { ca: readFileSync(t.ca_file) } : {}),
    ...(t.server_name ? { servername: t.server_name } : {}),
  };
}
