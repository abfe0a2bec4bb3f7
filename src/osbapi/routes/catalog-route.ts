import type { FastifyInstance } from 'fastify';
import type { ServiceBroker } from '../service-broker.ts';

export function registerCatalogRoute(v2: FastifyInstance, broker: ServiceBroker): void {
  // The catalog does not change while the process runs: serialize it once.
  const body = JSON.stringify(broker.catalog());
  v2.get('/catalog', { config: { operation: 'catalog' } }, async (_request, reply) =>
    reply.type('application/json').send(body),
  );
}
