// The configuration's types, all derived from the schema (config-schema.ts): one source for
// what is validated and what the code reads.
import type { LoadedConfig } from './config-schema.ts';

export type {
  LoadedConfig, OperationsConfig, PlanConfig, PlanRabbitConfig, PolicyConfig, ProtocolName, RabbitConfig, ServiceConfig,
  StoreConfig,
} from './config-schema.ts';

/** What warren runs with: the loaded configuration once the broker password is known (broker-password.ts). */
export type WarrenConfig = Omit<LoadedConfig, 'auth'> & { auth: { username: string; password: string } };
