// The configured services and plans: served as the OSBAPI catalog, and looked up by id.
import type { PlanConfig, ServiceConfig } from '../config/config-types.ts';
import type { CatalogService } from '../contract/service-broker.ts';

export interface PlanRef {
  service: ServiceConfig;
  plan: PlanConfig;
}

export class ServiceCatalog {
  private readonly plans = new Map<string, PlanRef>();
  private readonly services = new Map<string, ServiceConfig>();

  constructor(private readonly configured: ServiceConfig[]) {
    for (const service of configured) {
      this.services.set(service.id, service);
      for (const plan of service.plans) this.plans.set(plan.id, { service, plan });
    }
  }

  service(serviceId: string): ServiceConfig | undefined {
    return this.services.get(serviceId);
  }

  /** The plan, only if it belongs to that service. */
  plan(serviceId: string, planId: string): PlanRef | undefined {
    const ref = this.plans.get(planId);
    return ref && ref.service.id === serviceId ? ref : undefined;
  }

  /** Plans whose name or id is that, within the service of that name or id when given. */
  findPlans(nameOrId: string, service?: string): PlanRef[] {
    return [...this.plans.values()].filter(
      (r) => (r.plan.id === nameOrId || r.plan.name === nameOrId) && (service === undefined || r.service.id === service || r.service.name === service),
    );
  }

  planUpdateable(ref: PlanRef): boolean {
    return ref.plan.plan_updateable ?? ref.service.plan_updateable;
  }

  bindable(ref: PlanRef): boolean {
    return ref.plan.bindable ?? ref.service.bindable;
  }

  /** The catalog as the contract states it (GET /v2/catalog). */
  offered(): CatalogService[] {
    return this.configured.map((s) => ({
      id: s.id,
      name: s.name,
      description: s.description,
      bindable: s.bindable,
      planUpdateable: s.plan_updateable,
      instancesRetrievable: s.instances_retrievable,
      bindingsRetrievable: s.bindings_retrievable,
      allowContextUpdates: s.allow_context_updates,
      tags: s.tags,
      requires: s.requires,
      metadata: s.metadata,
      plans: s.plans.map((p) => ({
        id: p.id,
        name: p.name,
        description: p.description,
        free: p.free,
        bindable: p.bindable,
        planUpdateable: p.plan_updateable,
        bindingRotatable: p.binding_rotatable,
        metadata: p.metadata,
        maintenanceInfo: p.maintenance_info,
      })),
    }));
  }
}
