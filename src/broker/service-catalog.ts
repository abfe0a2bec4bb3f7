// The configured services and plans: served as the OSBAPI catalog, and looked up by id.
import type { PlanConfig, ServiceConfig } from '../config/config-types.ts';

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

  /** The body of GET /v2/catalog. */
  toOsbapi(): { services: unknown[] } {
    return {
      services: this.configured.map((s) => ({
        id: s.id,
        name: s.name,
        description: s.description,
        tags: s.tags,
        requires: s.requires,
        bindable: s.bindable,
        instances_retrievable: s.instances_retrievable,
        bindings_retrievable: s.bindings_retrievable,
        allow_context_updates: s.allow_context_updates,
        plan_updateable: s.plan_updateable,
        ...(s.metadata ? { metadata: s.metadata } : {}),
        plans: s.plans.map((p) => ({
          id: p.id,
          name: p.name,
          description: p.description,
          free: p.free,
          ...(p.bindable !== undefined ? { bindable: p.bindable } : {}),
          ...(p.plan_updateable !== undefined ? { plan_updateable: p.plan_updateable } : {}),
          ...(p.binding_rotatable !== undefined ? { binding_rotatable: p.binding_rotatable } : {}),
          ...(p.metadata ? { metadata: p.metadata } : {}),
          ...(p.maintenance_info ? { maintenance_info: p.maintenance_info } : {}),
        })),
      })),
    };
  }
}
