// The ServiceBroker that the OSBAPI layer calls: instances are vhosts, bindings are users.
import type {
  BindDetails, DeprovisionDetails, FetchDetails, PollDetails, ProvisionDetails, RequestContext, ServiceBroker, UpdateDetails,
} from '../osbapi/service-broker.ts';
import * as bindings from './binding-operations.ts';
import type { BrokerDeps } from './broker-deps.ts';
import * as instances from './instance-operations.ts';
import { assertPlanFitsCluster } from './policy-compatibility.ts';

export class RabbitServiceBroker implements ServiceBroker {
  constructor(private readonly deps: BrokerDeps) {}

  catalog() {
    return this.deps.catalog.toOsbapi();
  }
  async provision(id: string, d: ProvisionDetails, ctx: RequestContext) {
    this.planFitsCluster(d.serviceId, d.planId);
    return instances.provision(this.deps, id, d, ctx);
  }
  async update(id: string, d: UpdateDetails, ctx: RequestContext) {
    if (d.planId !== undefined) this.planFitsCluster(d.serviceId, d.planId);
    return instances.update(this.deps, id, d, ctx);
  }
  deprovision(id: string, d: DeprovisionDetails, ctx: RequestContext) {
    return instances.deprovision(this.deps, id, d, ctx);
  }
  getInstance(id: string, d: FetchDetails) {
    return instances.getInstance(this.deps, id, d);
  }
  lastOperation(id: string, d: PollDetails) {
    return instances.lastOperation(this.deps, id, d);
  }
  bind(id: string, bid: string, d: BindDetails, ctx: RequestContext) {
    return bindings.bind(this.deps, id, bid, d, ctx);
  }
  unbind(id: string, bid: string, d: DeprovisionDetails, ctx: RequestContext) {
    return bindings.unbind(this.deps, id, bid, d, ctx);
  }
  getBinding(id: string, bid: string, d: FetchDetails) {
    return bindings.getBinding(this.deps, id, bid, d);
  }
  lastBindingOperation(id: string, bid: string, d: PollDetails) {
    return bindings.lastBindingOperation(this.deps, id, bid, d);
  }

  /** 422 PlanNotSupportedByCluster before anything is made (unknown plans are left to the operations' 400). */
  private planFitsCluster(serviceId: string, planId: string): void {
    const ref = this.deps.catalog.plan(serviceId, planId);
    if (ref) assertPlanFitsCluster(ref.plan, this.deps.protocols.facts()?.version);
  }
}
