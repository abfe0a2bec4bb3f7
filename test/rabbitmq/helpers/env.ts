// Where the real RabbitMQ is, and how tests name what they create.
import { randomBytes } from 'node:crypto';
import { createManagementClient, type ManagementClient, type ManagementClientOptions } from '../../../src/rabbitmq/index.ts';

export const MGMT_URL = (process.env.RABBITMQ_MGMT_URL ?? 'http://127.0.0.1:15672').replace(/\/+$/, '');
const [adminUser = 'guest', adminPass = 'guest'] = (process.env.RABBITMQ_ADMIN ?? 'guest:guest').split(':');
export const ADMIN_USER = adminUser;
export const ADMIN_PASS = adminPass;
export const MGMT_PORT = Number(new URL(MGMT_URL).port || 15672);
export const AMQP_HOST = process.env.RABBITMQ_AMQP_HOST ?? '127.0.0.1';
export const AMQP_PORT = Number(process.env.RABBITMQ_AMQP_PORT ?? 5672);

/** The management URL with the admin credentials as userinfo. */
export function urlWithCredentials(base = MGMT_URL, user = ADMIN_USER, pass = ADMIN_PASS): string {
  const u = new URL(base);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(pass);
  return u.toString().replace(/\/+$/, '');
}

/** A unique name; the suffix keeps parallel runs (and other engineers' tests) apart. */
export function uniq(prefix: string): string {
  return `warren-test-${prefix}-${randomBytes(5).toString('hex')}`;
}

export function adminClient(extra: Partial<ManagementClientOptions> = {}): ManagementClient {
  return createManagementClient({ urls: [urlWithCredentials()], ...extra });
}
