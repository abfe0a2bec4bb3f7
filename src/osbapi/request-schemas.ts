// OSBAPI requests on the wire (snake_case), each defined once: Fastify validates with the JSON
// schema and the routes read the type TypeBox derives from it. Unknown fields are ignored (the
// spec asks for it); ids must match the contract's id rule.
import { Type } from '@sinclair/typebox';
import { ID_PATTERN } from '../contract/resource-ids.ts';

const id = Type.String({ pattern: ID_PATTERN });
const nonEmpty = Type.String({ minLength: 1 });
/** Free-form JSON object (context, parameters, ...). */
export const freeObject = Type.Record(Type.String(), Type.Unknown());
export const maintenanceInfo = Type.Object({
  version: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
});

export const instanceParams = Type.Object({ instance_id: id });

export const bindingParams = Type.Object({ instance_id: id, binding_id: id });

export const provisionBody = Type.Object({
  service_id: nonEmpty,
  plan_id: nonEmpty,
  organization_guid: nonEmpty,
  space_guid: nonEmpty,
  context: Type.Optional(freeObject),
  parameters: Type.Optional(freeObject),
  maintenance_info: Type.Optional(maintenanceInfo),
});

export const updateBody = Type.Object({
  service_id: nonEmpty,
  plan_id: Type.Optional(nonEmpty),
  context: Type.Optional(freeObject),
  parameters: Type.Optional(freeObject),
  previous_values: Type.Optional(freeObject),
  maintenance_info: Type.Optional(maintenanceInfo),
});

export const bindBody = Type.Object({
  service_id: nonEmpty,
  plan_id: nonEmpty,
  app_guid: Type.Optional(Type.String()),
  bind_resource: Type.Optional(freeObject),
  context: Type.Optional(freeObject),
  parameters: Type.Optional(freeObject),
  predecessor_binding_id: Type.Optional(id),
});

const acceptsIncomplete = Type.Optional(Type.String());

export const deleteQuery = Type.Object({ service_id: nonEmpty, plan_id: nonEmpty, accepts_incomplete: acceptsIncomplete });

export const fetchQuery = Type.Object({ service_id: Type.Optional(Type.String()), plan_id: Type.Optional(Type.String()) });

export const pollQuery = Type.Object({
  service_id: Type.Optional(Type.String()),
  plan_id: Type.Optional(Type.String()),
  operation: Type.Optional(Type.String()),
});

export const acceptsIncompleteQuery = Type.Object({ accepts_incomplete: acceptsIncomplete });
