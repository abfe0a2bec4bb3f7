// JSON schemas of OSBAPI requests. Unknown fields are ignored (the spec asks for it); ids are
// limited to characters that are safe as RabbitMQ names and in URLs.

/** Ids the platforms send are GUIDs; this also admits any other short, URL-safe id. */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._~-]{0,254}$';
export const ID_RULE = '1 to 255 characters from A-Z a-z 0-9 . _ ~ -, starting with a letter or digit';

const id = { type: 'string', pattern: ID_PATTERN } as const;
const nonEmpty = { type: 'string', minLength: 1 } as const;
const object = { type: 'object' } as const;
const maintenanceInfo = {
  type: 'object',
  properties: { version: { type: 'string' }, description: { type: 'string' } },
} as const;

export const instanceParams = {
  type: 'object',
  required: ['instance_id'],
  properties: { instance_id: id },
} as const;

export const bindingParams = {
  type: 'object',
  required: ['instance_id', 'binding_id'],
  properties: { instance_id: id, binding_id: id },
} as const;

export const provisionBody = {
  type: 'object',
  required: ['service_id', 'plan_id', 'organization_guid', 'space_guid'],
  properties: {
    service_id: nonEmpty,
    plan_id: nonEmpty,
    organization_guid: nonEmpty,
    space_guid: nonEmpty,
    context: object,
    parameters: object,
    maintenance_info: maintenanceInfo,
  },
} as const;

export const updateBody = {
  type: 'object',
  required: ['service_id'],
  properties: {
    service_id: nonEmpty,
    plan_id: nonEmpty,
    context: object,
    parameters: object,
    previous_values: object,
    maintenance_info: maintenanceInfo,
  },
} as const;

export const bindBody = {
  type: 'object',
  required: ['service_id', 'plan_id'],
  properties: {
    service_id: nonEmpty,
    plan_id: nonEmpty,
    app_guid: { type: 'string' },
    bind_resource: object,
    context: object,
    parameters: object,
    predecessor_binding_id: id,
  },
} as const;

export const deleteQuery = {
  type: 'object',
  required: ['service_id', 'plan_id'],
  properties: { service_id: nonEmpty, plan_id: nonEmpty, accepts_incomplete: { type: 'string' } },
} as const;

export const fetchQuery = {
  type: 'object',
  properties: { service_id: { type: 'string' }, plan_id: { type: 'string' } },
} as const;

export const pollQuery = {
  type: 'object',
  properties: { service_id: { type: 'string' }, plan_id: { type: 'string' }, operation: { type: 'string' } },
} as const;

export const acceptsIncompleteQuery = {
  type: 'object',
  properties: { accepts_incomplete: { type: 'string' } },
} as const;
