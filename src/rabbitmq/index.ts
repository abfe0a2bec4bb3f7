// Public surface of the RabbitMQ management client.
export { ManagementClient, createManagementClient } from './client.ts';
export {
  ManagementClientError,
  ManagementError,
  ManagementProtocolError,
  ManagementTransportError,
  ManagementUnavailableError,
} from './errors.ts';
export type { CallEvent, LoggerLike, ManagementClientOptions, RetryOptions } from './options.ts';
export type { ClientStats, FunnelCounters, NodeStats } from './request-funnel.ts';
export type * from './management-api.ts';
