// OSBAPI success answers on the wire (snake_case). Routes that declare them have Fastify serialize
// with fast-json-stringify, which drops every property a schema does not name: whatever the spec
// leaves free-form (credentials, parameters, metadata, catalog entries' extra fields) stays open
// here. The catalog and the answers with credentials give their type only (see below).
import { type Static, Type } from '@sinclair/typebox';
import { freeObject, maintenanceInfo } from './request-schemas.ts';

const text = Type.String();
const optionalText = Type.Optional(text);
const optionalFlag = Type.Optional(Type.Boolean());
/** Open to fields this broker does not produce today but a platform may read (schemas, dashboard_client, ...). */
const open = { additionalProperties: true } as const;
const named = { id: text, name: text, description: text };

const plan = Type.Object(
  {
    ...named,
    free: optionalFlag,
    bindable: optionalFlag,
    plan_updateable: optionalFlag,
    binding_rotatable: optionalFlag,
    metadata: Type.Optional(freeObject),
    maintenance_info: Type.Optional(maintenanceInfo),
  },
  open,
);

const service = Type.Object(
  {
    ...named,
    bindable: Type.Boolean(),
    tags: Type.Optional(Type.Array(text)),
    requires: Type.Optional(Type.Array(text)),
    instances_retrievable: optionalFlag,
    bindings_retrievable: optionalFlag,
    allow_context_updates: optionalFlag,
    plan_updateable: optionalFlag,
    metadata: Type.Optional(freeObject),
    plans: Type.Array(plan),
  },
  open,
);

/** GET /v2/catalog's answer, serialized once at start (catalog-route.ts): this gives its type only. */
export const catalogAnswer = Type.Object({ services: Type.Array(service) });
export type CatalogAnswer = Static<typeof catalogAnswer>;

const instanceMetadata = Type.Object({
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  attributes: Type.Optional(freeObject),
});

const bindingMetadata = Type.Object({ expires_at: optionalText, renew_before: optionalText });

/** Deprovision, unbind, and any 202 that only names its operation. */
export const operationAnswer = Type.Object({ operation: optionalText });
export type OperationAnswer = Static<typeof operationAnswer>;

export const provisionAnswer = Type.Object({
  dashboard_url: optionalText,
  operation: optionalText,
  metadata: Type.Optional(instanceMetadata),
});

export const updateAnswer = Type.Object({ dashboard_url: optionalText, operation: optionalText });

export const instanceAnswer = Type.Object({
  service_id: text,
  plan_id: text,
  dashboard_url: optionalText,
  parameters: Type.Optional(freeObject),
  maintenance_info: Type.Optional(maintenanceInfo),
  metadata: Type.Optional(instanceMetadata),
});

// Answers that carry credentials are mostly free-form, which fast-json-stringify writes slower
// than JSON.stringify (measured: 3.6-4.3 against 2.2-2.5 µs per answer), so their routes declare
// no response schema and these give their type only.
export const bindAnswer = Type.Object({ credentials: freeObject, metadata: Type.Optional(bindingMetadata) });
export type BindAnswer = Static<typeof bindAnswer>;

export const bindingAnswer = Type.Object({
  credentials: freeObject,
  parameters: Type.Optional(freeObject),
  metadata: Type.Optional(bindingMetadata),
});
export type BindingAnswer = Static<typeof bindingAnswer>;

export const lastOperationAnswer = Type.Object({
  state: text,
  description: optionalText,
  instance_usable: optionalFlag,
  update_repeatable: optionalFlag,
});
