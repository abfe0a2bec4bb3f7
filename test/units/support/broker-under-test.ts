// The broker's domain (RabbitServiceBroker) wired to whatever RabbitMQ and store a unit test
// gives it, with the default configuration: no process, no network, no RabbitMQ.
import { pino } from 'pino';
import { brokerSettings } from '../../../src/app/to-settings.ts';
import { ClusterProtocols } from '../../../src/broker/cluster-protocols.ts';
import { RabbitServiceBroker } from '../../../src/broker/rabbitmq-service-broker.ts';
import { ServiceCatalog } from '../../../src/broker/service-catalog.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import type { RabbitManagement } from '../../../src/rabbitmq/management-api.ts';
import type { Store } from '../../../src/store/store.ts';

export const SERVICE = '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0a01';
export const SMALL = '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0b01';
export const STANDARD = '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0b02';

/** A synchronous request, as a platform sends it without accepts_incomplete. */
export const SYNC = { acceptsIncomplete: false };
export const provisionDetails = (planId = SMALL) => ({ serviceId: SERVICE, planId, organizationGuid: 'o', spaceGuid: 's' });
export const bindDetails = (planId = SMALL) => ({ serviceId: SERVICE, planId });

/** Opens the store and builds the broker over it; `adjust` may change the configuration first. */
export async function brokerOver(rabbit: RabbitManagement, store: Store, adjust?: (config: ReturnType<typeof loadConfig>) => void): Promise<RabbitServiceBroker> {
  const config = loadConfig({ env: {} });
  adjust?.(config);
  await store.open();
  const log = pino({ level: 'silent' });
  return new RabbitServiceBroker({
    rabbit,
    store,
    deploymentId: await store.deploymentId(),
    catalog: new ServiceCatalog(config.catalog.services),
    protocols: new ClusterProtocols(rabbit, { amqp: 5672 }, log),
    ...brokerSettings(config),
    log,
  });
}
