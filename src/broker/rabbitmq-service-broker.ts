// The ServiceBroker that the OSBAPI layer calls: instances are vhosts, bindings are users.
import type {
  BindDetails, DeprovisionDetails, FetchDetails, PollDetails, ProvisionDetails, RequestContext, ServiceBroker, UpdateDetails,
} from '../contract/service-broker.ts';
import * as bindings from './binding-operations.ts';
import type { BrokerDeps } from './broker-deps.ts';
import * as instances from './instance-operations.ts';
import { toBrokerError } from './rabbit-failure.ts';

/** Every failure leaves the broker in the protocol's shape (store and deadline errors too). */
const answer = <T>(doing: string, p: Promise<T>): Promise<T> =>
  p.catch((err: unknown) => {
    throw toBrokerError(err, doing);
  });

export class RabbitServiceBroker implements ServiceBroker {
  constructor(private readonly deps: BrokerDeps) {}

  catalog() {
    return this.deps.catalog.offered();
  }
  provision(id: string, d: ProvisionDetails, ctx: RequestContext) {
    return answer('provision', instances.provision(this.deps, id, d, ctx));
  }
  update(id: string, d: UpdateDetails, ctx: RequestContext) {
    return answer('update', instances.update(this.deps, id, d, ctx));
  }
  deprovision(id: string, d: DeprovisionDetails, ctx: RequestContext) {
    return answer('deprovision', instances.deprovision(this.deps, id, d, ctx));
  }
  getInstance(id: string, d: FetchDetails) {
    return answer('getInstance', instances.getInstance(this.deps, id, d));
  }
  lastOperation(id: string, d: PollDetails) {
    return answer('lastOperation', instances.lastOperation(this.deps, id, d));
  }
  bind(id: string, bid: string, d: BindDetails, ctx: RequestContext) {
    return answer('bind', bindings.bind(this.deps, id, bid, d, ctx));
  }
  unbind(id: string, bid: string, d: DeprovisionDetails, ctx: RequestContext) {
    return answer('unbind', bindings.unbind(this.deps, id, bid, d, ctx));
  }
  getBinding(id: string, bid: string, d: FetchDetails) {
    return answer('getBinding', bindings.getBinding(this.deps, id, bid, d));
  }
  lastBindingOperation(id: string, bid: string, d: PollDetails) {
    return answer('lastBindingOperation', bindings.lastBindingOperation(this.deps, id, bid, d));
  }
}
