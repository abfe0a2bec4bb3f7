// The configuration file, written once: TypeBox builds the JSON schema ajv validates (it fills
// defaults and rejects unknown keys, so a typo is reported with its path instead of being
// ignored), and the TypeScript types in config-types.ts are derived from the same values.
// Keys keep the YAML file's snake_case; src/app/to-settings.ts maps them to each room's own names.
import { type Static, type TUnsafe, Type } from '@sinclair/typebox';

const str = (description?: string) => Type.String({ minLength: 1, ...(description ? { description } : {}) });
const strList = (options: { default?: string[]; minItems?: number; description?: string } = {}) => Type.Array(str(), options);
const limit = () => Type.Optional(Type.Integer({ minimum: -1 }));
const port = () => Type.Integer({ minimum: 1, maximum: 65535 });
const ms = (minimum: number, defaultMs: number, description: string, maximum?: number) =>
  Type.Integer({ minimum, default: defaultMs, description, ...(maximum === undefined ? {} : { maximum }) });
/** A closed object: an unknown key is an error that names it. */
const closed = <P extends Parameters<typeof Type.Object>[0]>(properties: P, options: { default?: object; description?: string } = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options });
/** One of a few strings, as a JSON schema `enum` (its errors list the allowed values). */
const oneOfStrings = <const T extends readonly string[]>(values: T, options: { default?: T[number]; description?: string } = {}): TUnsafe<T[number]> =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
const jsonObject = (options: { minProperties?: number } = {}) => Type.Record(Type.String(), Type.Unknown(), options);
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
const SEMVER = '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$';

/** Tags of binding users unless the plan gives its own (rabbitmq.user_tags' default). */
export const DEFAULT_USER_TAGS = ['management', 'policymaker'];

const permissionsFields = { configure: Type.String(), write: Type.String(), read: Type.String() };

const PolicySchema = closed({
  name: str(),
  pattern: Type.String({ default: '.*' }),
  apply_to: oneOfStrings(['queues', 'exchanges', 'all', 'classic_queues', 'quorum_queues', 'streams'], { default: 'all' }),
  priority: Type.Integer({ default: 0 }),
  definition: jsonObject({ minProperties: 1 }),
});

const PlanRabbitSchema = closed(
  {
    vhost_limits: closed({ max_connections: limit(), max_queues: limit() }, { default: {} }),
    user_limits: closed({ max_connections: limit(), max_channels: limit() }, { default: {} }),
    policies: Type.Array(PolicySchema, { default: [] }),
    operator_policies: Type.Array(PolicySchema, { default: [] }),
    permissions: closed(permissionsFields, { default: { configure: '.*', write: '.*', read: '.*' } }),
    topic_permissions: Type.Array(closed({ exchange: Type.String(), write: Type.String(), read: Type.String() }), { default: [] }),
    // Filled from rabbitmq.user_tags before validation when the plan gives none (load-config.ts).
    user_tags: strList(),
    default_queue_type: Type.Optional(oneOfStrings(['classic', 'quorum', 'stream'])),
  },
  { default: {} },
);

const PlanSchema = closed({
  id: str(),
  name: Type.String({ pattern: NAME_PATTERN }),
  description: Type.String({ default: '' }),
  free: Type.Boolean({ default: true }),
  bindable: Type.Optional(Type.Boolean()),
  plan_updateable: Type.Optional(Type.Boolean()),
  binding_rotatable: Type.Optional(Type.Boolean()),
  metadata: Type.Optional(jsonObject()),
  maintenance_info: Type.Optional(closed({ version: Type.String({ pattern: SEMVER }), description: Type.Optional(Type.String()) })),
  rabbitmq: PlanRabbitSchema,
});

const ServiceSchema = closed({
  id: str(),
  name: Type.String({ pattern: NAME_PATTERN }),
  description: Type.String({ default: 'RabbitMQ virtual host with its own users' }),
  bindable: Type.Boolean({ default: true }),
  plan_updateable: Type.Boolean({ default: true }),
  instances_retrievable: Type.Boolean({ default: true }),
  bindings_retrievable: Type.Boolean({ default: true }),
  allow_context_updates: Type.Boolean({ default: true }),
  tags: strList({ default: ['rabbitmq', 'amqp'] }),
  requires: strList({ default: [] }),
  metadata: Type.Optional(jsonObject()),
  plans: Type.Array(PlanSchema, { minItems: 1 }),
});

const protocolPort = () => Type.Optional(closed({ port: port() }));

const RabbitSchema = closed({
  management_urls: strList({ minItems: 1, description: 'Management API base URLs, one per node; userinfo carries the administrator account.' }),
  administrator: closed({ username: str(), password: str() }),
  hosts: strList({ default: [], description: "Hosts apps connect to (AMQP, MQTT, STOMP). Default: the management URLs' hosts." }),
  management_public_urls: strList({ default: [], description: 'Management base URLs apps and people reach (http_api_uri, dashboards). Default: management_urls without credentials.' }),
  protocols: closed(
    {
      amqp: protocolPort(),
      'amqp+ssl': protocolPort(),
      mqtt: protocolPort(),
      'mqtt+ssl': protocolPort(),
      stomp: protocolPort(),
      'stomp+ssl': protocolPort(),
      management: protocolPort(),
      'management+ssl': protocolPort(),
    },
    { default: {}, description: "Protocol ports to offer. Empty: detect from the cluster's listeners (GET /api/overview)." },
  ),
  prefer_tls: Type.Boolean({ default: true, description: 'Top-level uri uses TLS (amqps) when the cluster offers it.' }),
  management_tls: Type.Optional(
    closed({ ca_file: Type.Optional(str()), reject_unauthorized: Type.Boolean({ default: true }), server_name: Type.Optional(str()) }),
  ),
  user_tags: strList({ default: DEFAULT_USER_TAGS, description: 'Tags given to every binding user unless the plan says otherwise.' }),
  pool: closed(
    {
      connections: Type.Integer({ minimum: 1, maximum: 1024, default: 32 }),
      connect_timeout_ms: ms(1, 3000, 'TCP (and TLS) connect to one node.'),
      headers_timeout_ms: ms(1, 15000, 'Time to the response headers.'),
      body_timeout_ms: ms(1, 15000, 'Longest gap between body chunks.'),
      attempt_timeout_ms: ms(1, 5000, 'Deadline of one exchange with one node (connect + headers + body); then the next node.'),
    },
    { default: {} },
  ),
  health: closed(
    {
      probe_interval_ms: ms(100, 15000, 'An up node with no traffic for this long is probed.'),
      probe_backoff_max_ms: ms(100, 10000, 'Longest wait between probes of a node that is down (backoff from 500 ms).'),
    },
    { default: {}, description: 'Background probes of the management nodes (GET /api/whoami).' },
  ),
  vhost_deletion_protection: Type.Boolean({ default: true, description: "Protect warren's vhosts against deletion by others where the cluster can (RabbitMQ 4.1+)." }),
  unbind_confirm_timeout_ms: ms(0, 5000, 'How long unbind waits for RabbitMQ to report zero connections for the deleted user.'),
  collect_statistics_interval_ms: ms(
    100,
    5000,
    "RabbitMQ's collect_statistics_interval: a connection that tracking lists but statistics still do not know this long (+1.5 s) after its user was deleted is a stale tracking entry (an unbind needs a request budget longer than that to prove one).",
  ),
});

const OperationsSchema = closed(
  {
    request_budget_ms: ms(1000, 25_000, 'Every OSBAPI request answers within this (platforms give up after 60 s).', 600_000),
    async_budget_ms: ms(1000, 300_000, 'Work that went asynchronous (202), or is finished for a dead replica, gets this long.'),
    lease_ms: ms(1000, 10_000, "An operation's lease: a dead replica's work is taken over this long after its last renewal."),
    busy_wait_ms: ms(0, 3_000, 'How long a request waits for a conflicting operation before 422 ConcurrencyError.'),
    rollback_reserve_ms: ms(0, 5_000, "Kept from a synchronous request's budget to undo a failed create before answering."),
    recovery_interval_ms: ms(100, 2_000, 'How often the background jobs look for abandoned operations and due follow-ups.'),
    background_lease_ms: ms(1000, 15_000, 'The lease one replica holds to run the background jobs.'),
    in_doubt_look_ms: Type.Optional(
      Type.Integer({ minimum: 100, description: 'When to look again for writes that landed late; default request_budget_ms + rabbitmq.pool.attempt_timeout_ms.' }),
    ),
  },
  { default: {}, description: 'Budgets and leases of operations (see docs/replicas.md).' },
);

const ListenerSchema = closed(
  {
    headers_timeout_ms: ms(100, 10_000, 'All request headers must arrive within this time.'),
    request_timeout_ms: ms(100, 30_000, 'The whole request (headers and body) must arrive within this time.'),
    idle_timeout_ms: ms(100, 60_000, 'A connection with no traffic at all is closed after this time.'),
    max_header_bytes: Type.Integer({ minimum: 1024, maximum: 1_048_576, default: 16_384, description: "Largest total size of a request's headers (431 beyond)." }),
    max_connections: Type.Integer({ minimum: 1, default: 1024, description: 'Connections open at once; more are refused at accept.' }),
  },
  { default: {}, description: 'Limits of the OSBAPI listener against slow or abusive clients.' },
);

const StoreSchema = Type.Union([closed({ kind: Type.Literal('sqlite') }), closed({ kind: Type.Literal('postgres'), url: str() })]);

export const ConfigSchema = closed({
  listen: closed({ host: str(), port: Type.Integer({ minimum: 0, maximum: 65535 }) }),
  log_level: oneOfStrings(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  // The password may be left out: then one is generated into data_dir (broker-password.ts).
  auth: closed({ username: str(), password: Type.Optional(str()) }),
  data_dir: str(),
  store: StoreSchema,
  encryption_key: Type.Optional(str('base64 or hex of 32 bytes, labelled "default"; when no key is given, generated once into data_dir/encryption.key.')),
  encryption_keys: Type.Optional(
    Type.Array(closed({ label: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }), key: str(), primary: Type.Optional(Type.Boolean()) }), {
      description: 'Labelled keys for rotation: the one marked primary (else the first) seals new values; all open.',
    }),
  ),
  tls: Type.Optional(
    closed(
      { cert_file: str(), key_file: str(), client_ca_file: Type.Optional(str()), reload_interval_ms: ms(100, 10000, 'How often the files are checked for a renewal.') },
      { description: 'With a certificate, the OSBAPI port speaks HTTPS only; with a client CA, mutual TLS.' },
    ),
  ),
  auth_throttle: closed(
    { max_failures: Type.Integer({ minimum: 1, default: 10 }), window_seconds: Type.Integer({ minimum: 1, default: 60 }) },
    { default: {}, description: 'Failed logins per client address within the window before 429s.' },
  ),
  deployment_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._~-]{1,64}$', description: "This deployment's id on RabbitMQ objects; default: generated once into the store." })),
  reconcile: closed(
    { interval_s: Type.Number({ minimum: 0, default: 300 }), fix: Type.Boolean({ default: false }) },
    { default: {}, description: 'The periodic drift scan (src/reconcile): every interval_s seconds (0 = off); fix repairs what it finds.' },
  ),
  listener: ListenerSchema,
  operation_retention_hours: Type.Number({ minimum: 0, default: 72, description: 'How long finished operations are kept for last_operation.' }),
  operations: OperationsSchema,
  rabbitmq: RabbitSchema,
  catalog: closed({ services: Type.Array(ServiceSchema, { minItems: 1 }) }),
});

/** The configuration as validated, defaults filled in; the broker password may still be missing. */
export type LoadedConfig = Static<typeof ConfigSchema>;
export type PolicyConfig = Static<typeof PolicySchema>;
export type PlanRabbitConfig = Static<typeof PlanRabbitSchema>;
export type PlanConfig = Static<typeof PlanSchema>;
export type ServiceConfig = Static<typeof ServiceSchema>;
export type RabbitConfig = Static<typeof RabbitSchema>;
export type OperationsConfig = Static<typeof OperationsSchema>;
export type StoreConfig = Static<typeof StoreSchema>;
export type ProtocolName = keyof RabbitConfig['protocols'];
