// JSON schema of the configuration file. ajv fills defaults and rejects unknown keys, so a
// typo is reported with its path instead of being ignored.

const str = { type: 'string', minLength: 1 } as const;
const strList = { type: 'array', items: str } as const;
const limit = { type: 'integer', minimum: -1 } as const;
const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;

const permissions = {
  type: 'object',
  additionalProperties: false,
  required: ['configure', 'write', 'read'],
  properties: { configure: { type: 'string' }, write: { type: 'string' }, read: { type: 'string' } },
} as const;

const policy = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'definition'],
  properties: {
    name: str,
    pattern: { type: 'string', default: '.*' },
    apply_to: { enum: ['queues', 'exchanges', 'all', 'classic_queues', 'quorum_queues', 'streams'], default: 'all' },
    priority: { type: 'integer', default: 0 },
    definition: { type: 'object', minProperties: 1 },
  },
} as const;

const planRabbit = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    vhost_limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { max_connections: limit, max_queues: limit },
    },
    user_limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { max_connections: limit, max_channels: limit },
    },
    policies: { type: 'array', items: policy, default: [] },
    operator_policies: { type: 'array', items: policy, default: [] },
    permissions: { ...permissions, default: { configure: '.*', write: '.*', read: '.*' } },
    topic_permissions: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['exchange', 'write', 'read'],
        properties: { exchange: { type: 'string' }, write: { type: 'string' }, read: { type: 'string' } },
      },
    },
    user_tags: strList,
    default_queue_type: { enum: ['classic', 'quorum', 'stream'] },
  },
} as const;

const plan = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name'],
  properties: {
    id: str,
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
    description: { type: 'string', default: '' },
    free: { type: 'boolean', default: true },
    bindable: { type: 'boolean' },
    plan_updateable: { type: 'boolean' },
    binding_rotatable: { type: 'boolean' },
    metadata: { type: 'object' },
    maintenance_info: {
      type: 'object',
      additionalProperties: false,
      required: ['version'],
      properties: {
        version: { type: 'string', pattern: '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$' },
        description: { type: 'string' },
      },
    },
    rabbitmq: planRabbit,
  },
} as const;

const service = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'plans'],
  properties: {
    id: str,
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
    description: { type: 'string', default: 'RabbitMQ virtual host with its own users' },
    bindable: { type: 'boolean', default: true },
    plan_updateable: { type: 'boolean', default: true },
    instances_retrievable: { type: 'boolean', default: true },
    bindings_retrievable: { type: 'boolean', default: true },
    allow_context_updates: { type: 'boolean', default: true },
    tags: { ...strList, default: ['rabbitmq', 'amqp'] },
    requires: { ...strList, default: [] },
    metadata: { type: 'object' },
    plans: { type: 'array', items: plan, minItems: 1 },
  },
} as const;

const protocolPort = { type: 'object', additionalProperties: false, required: ['port'], properties: { port } } as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['listen', 'auth', 'data_dir', 'store', 'rabbitmq', 'catalog'],
  properties: {
    listen: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port'],
      properties: { host: str, port: { type: 'integer', minimum: 0, maximum: 65535 } },
    },
    log_level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    auth: {
      type: 'object',
      additionalProperties: false,
      required: ['username', 'password'],
      properties: { username: str, password: str },
    },
    data_dir: str,
    store: {
      type: 'object',
      required: ['kind'],
      oneOf: [
        { additionalProperties: false, properties: { kind: { const: 'sqlite' } } },
        { additionalProperties: false, required: ['url'], properties: { kind: { const: 'postgres' }, url: str } },
      ],
    },
    encryption_key: str,
    encryption_keys: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['label', 'key'],
        properties: { label: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' }, key: str, primary: { type: 'boolean' } },
      },
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['cert_file', 'key_file'],
      properties: {
        cert_file: str,
        key_file: str,
        client_ca_file: str,
        reload_interval_ms: { type: 'integer', minimum: 100, default: 10000 },
      },
    },
    auth_throttle: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_failures: { type: 'integer', minimum: 1, default: 10 },
        window_seconds: { type: 'integer', minimum: 1, default: 60 },
      },
    },
    deployment_id: { type: 'string', pattern: '^[A-Za-z0-9._~-]{1,64}$' },
    reconcile: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        interval_s: { type: 'number', minimum: 0, default: 300 },
        fix: { type: 'boolean', default: false },
      },
    },
    listener: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        headers_timeout_ms: { type: 'integer', minimum: 100, default: 10_000 },
        request_timeout_ms: { type: 'integer', minimum: 100, default: 30_000 },
        idle_timeout_ms: { type: 'integer', minimum: 100, default: 60_000 },
        max_header_bytes: { type: 'integer', minimum: 1024, maximum: 1_048_576, default: 16_384 },
        max_connections: { type: 'integer', minimum: 1, default: 1024 },
      },
    },
    operation_retention_hours: { type: 'number', minimum: 0, default: 72 },
    operations: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        request_budget_ms: { type: 'integer', minimum: 1000, maximum: 600_000, default: 25_000 },
        async_budget_ms: { type: 'integer', minimum: 1000, default: 300_000 },
        lease_ms: { type: 'integer', minimum: 1000, default: 10_000 },
        busy_wait_ms: { type: 'integer', minimum: 0, default: 3_000 },
        rollback_reserve_ms: { type: 'integer', minimum: 0, default: 5_000 },
        recovery_interval_ms: { type: 'integer', minimum: 100, default: 2_000 },
        background_lease_ms: { type: 'integer', minimum: 1000, default: 15_000 },
        in_doubt_look_ms: { type: 'integer', minimum: 100 },
      },
    },
    rabbitmq: {
      type: 'object',
      additionalProperties: false,
      required: ['management_urls', 'administrator'],
      properties: {
        management_urls: { ...strList, minItems: 1 },
        administrator: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'password'],
          properties: { username: str, password: str },
        },
        hosts: { ...strList, default: [] },
        management_public_urls: { ...strList, default: [] },
        protocols: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            amqp: protocolPort,
            'amqp+ssl': protocolPort,
            mqtt: protocolPort,
            'mqtt+ssl': protocolPort,
            stomp: protocolPort,
            'stomp+ssl': protocolPort,
            management: protocolPort,
            'management+ssl': protocolPort,
          },
        },
        prefer_tls: { type: 'boolean', default: true },
        management_tls: {
          type: 'object',
          additionalProperties: false,
          properties: { ca_file: str, reject_unauthorized: { type: 'boolean', default: true }, server_name: str },
        },
        user_tags: { ...strList, default: ['management', 'policymaker'] },
        pool: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            connections: { type: 'integer', minimum: 1, maximum: 1024, default: 32 },
            connect_timeout_ms: { type: 'integer', minimum: 1, default: 3000 },
            headers_timeout_ms: { type: 'integer', minimum: 1, default: 15000 },
            body_timeout_ms: { type: 'integer', minimum: 1, default: 15000 },
            attempt_timeout_ms: { type: 'integer', minimum: 1, default: 5000 },
          },
        },
        health: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            probe_interval_ms: { type: 'integer', minimum: 100, default: 15000 },
            probe_backoff_max_ms: { type: 'integer', minimum: 100, default: 10000 },
          },
        },
        vhost_deletion_protection: { type: 'boolean', default: true },
        unbind_confirm_timeout_ms: { type: 'integer', minimum: 0, default: 5000 },
      },
    },
    catalog: {
      type: 'object',
      additionalProperties: false,
      required: ['services'],
      properties: { services: { type: 'array', items: service, minItems: 1 } },
    },
  },
} as const;
