// Public surface of the RabbitMQ management client.
export { ManagementClient, createManagementClient } from './client.ts';
export * from './errors.ts';
export type { AttemptOutcome, CallEvent, HealthOptions, LoggerLike, ManagementClientOptions, RetryOptions } from './options.ts';
export type { NodeHealthView, NodeState } from './node-health.ts';
export type { ClientStats, FunnelCounters, NodeStats } from './request-funnel.ts';
export type * from './management-api.ts';
