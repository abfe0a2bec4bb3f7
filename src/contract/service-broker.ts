// The contract between the OSBAPI protocol layer and whatever implements the service
// (like Go brokerapi's ServiceBroker): plain data in, plain data out, failures as BrokerError.

export interface OriginatingIdentity {
  platform: string;
  /** The decoded JSON value; for the audit log only, never for authorization. */
  value: unknown;
}

export interface RequestContext {
  requestIdentity?: string;
  originatingIdentity?: OriginatingIdentity;
  /** RFC 2.17: the platform is willing to poll last_operation. */
  acceptsIncomplete: boolean;
}

export interface MaintenanceInfo {
  version?: string;
  description?: string;
}

/** OSBAPI 2.17 instance metadata: labels for the platform, attributes for anyone. */
export interface InstanceMetadata {
  labels?: Record<string, string>;
  attributes?: Record<string, unknown>;
}

export interface ProvisionDetails {
  serviceId: string;
  planId: string;
  organizationGuid: string;
  spaceGuid: string;
  context?: Record<string, unknown>;
  parameters?: Record<string, unknown>;
  maintenanceInfo?: MaintenanceInfo;
}

export interface ProvisionResult {
  /** 200 instead of 201: an identical instance was there already. */
  alreadyExists: boolean;
  dashboardUrl?: string;
  /** Set when the work goes on after the answer (202). */
  operation?: string;
  metadata?: InstanceMetadata;
}

export interface UpdateDetails {
  serviceId: string;
  planId?: string;
  context?: Record<string, unknown>;
  parameters?: Record<string, unknown>;
  previousValues?: Record<string, unknown>;
  maintenanceInfo?: MaintenanceInfo;
}

export interface UpdateResult {
  dashboardUrl?: string;
  operation?: string;
}

export interface DeprovisionDetails {
  serviceId: string;
  planId: string;
}

export interface DeprovisionResult {
  operation?: string;
}

export interface FetchDetails {
  serviceId?: string;
  planId?: string;
}

export interface InstanceView {
  serviceId: string;
  planId: string;
  dashboardUrl?: string;
  parameters?: Record<string, unknown>;
  maintenanceInfo?: MaintenanceInfo;
  metadata?: InstanceMetadata;
}

export interface PollDetails extends FetchDetails {
  operation?: string;
}

export interface LastOperation {
  state: 'in progress' | 'succeeded' | 'failed';
  description?: string;
  instanceUsable?: boolean;
  updateRepeatable?: boolean;
  /** While in progress: when to poll again (Retry-After). */
  retryAfterSeconds?: number;
}

export interface BindDetails {
  serviceId: string;
  planId: string;
  appGuid?: string;
  bindResource?: Record<string, unknown>;
  context?: Record<string, unknown>;
  parameters?: Record<string, unknown>;
  predecessorBindingId?: string;
}

/** When a binding's credentials expire and when to renew them (ISO 8601). */
export interface BindingMetadata {
  expiresAt?: string;
  renewBefore?: string;
}

export interface BindResult {
  alreadyExists: boolean;
  credentials: Record<string, unknown>;
  operation?: string;
  metadata?: BindingMetadata;
}

export interface UnbindResult {
  operation?: string;
}

export interface BindingView {
  credentials: Record<string, unknown>;
  parameters?: Record<string, unknown>;
  metadata?: BindingMetadata;
}

export interface CatalogPlan {
  id: string;
  name: string;
  description: string;
  free: boolean;
  /** Unset: the service's value holds. */
  bindable?: boolean;
  planUpdateable?: boolean;
  bindingRotatable?: boolean;
  metadata?: Record<string, unknown>;
  maintenanceInfo?: MaintenanceInfo;
}

export interface CatalogService {
  id: string;
  name: string;
  description: string;
  bindable: boolean;
  planUpdateable: boolean;
  instancesRetrievable: boolean;
  bindingsRetrievable: boolean;
  allowContextUpdates: boolean;
  tags: string[];
  requires: string[];
  metadata?: Record<string, unknown>;
  plans: CatalogPlan[];
}

export interface ServiceBroker {
  /** The services and plans offered (GET /v2/catalog); the same for the life of the process. */
  catalog(): CatalogService[];
  provision(instanceId: string, details: ProvisionDetails, ctx: RequestContext): Promise<ProvisionResult>;
  update(instanceId: string, details: UpdateDetails, ctx: RequestContext): Promise<UpdateResult>;
  deprovision(instanceId: string, details: DeprovisionDetails, ctx: RequestContext): Promise<DeprovisionResult>;
  getInstance(instanceId: string, details: FetchDetails, ctx: RequestContext): Promise<InstanceView>;
  lastOperation(instanceId: string, details: PollDetails, ctx: RequestContext): Promise<LastOperation>;
  bind(instanceId: string, bindingId: string, details: BindDetails, ctx: RequestContext): Promise<BindResult>;
  unbind(instanceId: string, bindingId: string, details: DeprovisionDetails, ctx: RequestContext): Promise<UnbindResult>;
  getBinding(instanceId: string, bindingId: string, details: FetchDetails, ctx: RequestContext): Promise<BindingView>;
  lastBindingOperation(instanceId: string, bindingId: string, details: PollDetails, ctx: RequestContext): Promise<LastOperation>;
}
