// The validated configuration. Keys keep the YAML file's snake_case so the README's
// configuration reference, the file and the code use one vocabulary.

export interface RabbitPermissions {
  configure: string;
  write: string;
  read: string;
}

export interface PolicyConfig {
  name: string;
  pattern: string;
  apply_to: 'queues' | 'exchanges' | 'all' | 'classic_queues' | 'quorum_queues' | 'streams';
  priority: number;
  definition: Record<string, unknown>;
}

export interface PlanRabbitConfig {
  vhost_limits: { max_connections?: number; max_queues?: number };
  user_limits: { max_connections?: number; max_channels?: number };
  policies: PolicyConfig[];
  operator_policies: PolicyConfig[];
  permissions: RabbitPermissions;
  topic_permissions: Array<{ exchange: string; write: string; read: string }>;
  user_tags: string[];
  default_queue_type?: 'classic' | 'quorum' | 'stream';
}

export interface PlanConfig {
  id: string;
  name: string;
  description: string;
  free: boolean;
  bindable?: boolean;
  plan_updateable?: boolean;
  binding_rotatable?: boolean;
  metadata?: Record<string, unknown>;
  maintenance_info?: { version: string; description?: string };
  rabbitmq: PlanRabbitConfig;
}

export interface ServiceConfig {
  id: string;
  name: string;
  description: string;
  bindable: boolean;
  plan_updateable: boolean;
  instances_retrievable: boolean;
  bindings_retrievable: boolean;
  allow_context_updates: boolean;
  tags: string[];
  requires: string[];
  metadata?: Record<string, unknown>;
  plans: PlanConfig[];
}

export type ProtocolName = 'amqp' | 'amqp+ssl' | 'mqtt' | 'mqtt+ssl' | 'stomp' | 'stomp+ssl' | 'management' | 'management+ssl';

export interface RabbitConfig {
  /** Management API base URLs, one per node; userinfo carries the administrator account. */
  management_urls: string[];
  administrator: { username: string; password: string };
  /** Hosts apps connect to (AMQP, MQTT, STOMP). Default: the management URLs' hosts. */
  hosts: string[];
  /** Management base URL(s) apps and people reach (http_api_uri, dashboards). Default: management_urls without credentials. */
  management_public_urls: string[];
  /** Protocol ports to offer. Empty: detect from the cluster's listeners (GET /api/overview). */
  protocols: Partial<Record<ProtocolName, { port: number }>>;
  /** Top-level uri uses TLS (amqps) when the cluster offers it. */
  prefer_tls: boolean;
  /** TLS settings for https management URLs. */
  management_tls?: { ca_file?: string; reject_unauthorized: boolean; server_name?: string };
  /** Tags given to every binding user unless the plan says otherwise. */
  user_tags: string[];
  pool: {
    connections: number;
    connect_timeout_ms: number;
    headers_timeout_ms: number;
    body_timeout_ms: number;
    /** Deadline of one exchange with one node (connect + headers + body); then the next node. */
    attempt_timeout_ms: number;
  };
  /** Background probes of the management nodes (GET /api/whoami). */
  health: {
    /** An up node with no traffic for this long is probed. */
    probe_interval_ms: number;
    /** Longest wait between probes of a node that is down (backoff from 500 ms). */
    probe_backoff_max_ms: number;
  };
  /** Protect warren's vhosts against deletion by others where the cluster can (RabbitMQ 4.1+). */
  vhost_deletion_protection: boolean;
  /** How long unbind waits for RabbitMQ to report zero connections for the deleted user. */
  unbind_confirm_timeout_ms: number;
}

export type StoreConfig = { kind: 'sqlite' } | { kind: 'postgres'; url: string };

/** Budgets and leases of operations (see docs/replicas.md). */
export interface OperationsConfig {
  /** Every OSBAPI request answers within this (platforms give up after 60 s). */
  request_budget_ms: number;
  /** Work that went asynchronous (202), or is finished for a dead replica, gets this long. */
  async_budget_ms: number;
  /** An operation's lease: a dead replica's work is taken over this long after its last renewal. */
  lease_ms: number;
  /** How long a request waits for a conflicting operation before 422 ConcurrencyError. */
  busy_wait_ms: number;
  /** Kept from a synchronous request's budget to undo a failed create before answering. */
  rollback_reserve_ms: number;
  /** How often the background jobs look for abandoned operations and due follow-ups. */
  recovery_interval_ms: number;
  /** The lease one replica holds to run the background jobs. */
  background_lease_ms: number;
  /** When to look again for writes that landed late; default request_budget_ms + rabbitmq.pool.attempt_timeout_ms. */
  in_doubt_look_ms?: number;
}

export interface WarrenConfig {
  listen: { host: string; port: number };
  log_level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  auth: { username: string; password: string };
  data_dir: string;
  store: StoreConfig;
  /** base64 or hex of 32 bytes, labelled "default"; when no key is given, generated once into data_dir/encryption.key. */
  encryption_key?: string;
  /** Labelled keys for rotation: the one marked primary (else the first) seals new values; all open. */
  encryption_keys?: Array<{ label: string; key: string; primary?: boolean }>;
  /** With a certificate, the OSBAPI port speaks HTTPS only; with a client CA, mutual TLS. */
  tls?: { cert_file: string; key_file: string; client_ca_file?: string; reload_interval_ms: number };
  /** Failed logins per client address within the window before 429s. */
  auth_throttle: { max_failures: number; window_seconds: number };
  /** How long finished operations are kept for last_operation (e.g. after a delete). */
  operation_retention_hours: number;
  operations: OperationsConfig;
  rabbitmq: RabbitConfig;
  catalog: { services: ServiceConfig[] };
  /** This deployment's id on RabbitMQ objects; default: generated once into the store. */
  deployment_id?: string;
  /** The periodic drift scan (src/reconcile): every interval_s seconds (0 = off); fix repairs what it finds. */
  reconcile: { interval_s: number; fix: boolean };
  /** Limits of the OSBAPI listener against slow or abusive clients. */
  listener: ListenerLimits;
}

export interface ListenerLimits {
  /** All request headers must arrive within this time. */
  headers_timeout_ms: number;
  /** The whole request (headers and body) must arrive within this time. */
  request_timeout_ms: number;
  /** A connection with no traffic at all is closed after this time. */
  idle_timeout_ms: number;
  /** Largest total size of a request's headers (431 beyond). */
  max_header_bytes: number;
  /** Connections open at once; more are refused at accept. */
  max_connections: number;
}
