import type { BindingMetadata, ServiceBroker } from '../../contract/service-broker.ts';
import { bindBody, bindingParams, deleteQuery, fetchQuery, pollQuery } from '../request-schemas.ts';
import { type BindAnswer, type BindingAnswer, lastOperationAnswer, type OperationAnswer, operationAnswer } from '../response-schemas.ts';
import type { TypedRoutes } from './typed-routes.ts';

const PATH = '/service_instances/:instance_id/service_bindings/:binding_id';

const wireMetadata = (m: BindingMetadata | undefined): BindAnswer['metadata'] => m && { expires_at: m.expiresAt, renew_before: m.renewBefore };

export function registerBindingRoutes(v2: TypedRoutes, broker: ServiceBroker): void {
  v2.put(
    PATH,
    // No response schema: credentials are free-form, and JSON.stringify writes them faster (response-schemas.ts).
    { schema: { params: bindingParams, body: bindBody }, config: { operation: 'bind' } },
    async (request, reply) => {
      const b = request.body;
      const { instance_id, binding_id } = request.params;
      const result = await broker.bind(
        instance_id,
        binding_id,
        {
          serviceId: b.service_id, planId: b.plan_id, appGuid: b.app_guid, bindResource: b.bind_resource,
          context: b.context, parameters: b.parameters, predecessorBindingId: b.predecessor_binding_id,
        },
        request.osb,
      );
      if (result.operation) return reply.code(202).send({ operation: result.operation } satisfies OperationAnswer);
      return reply.code(result.alreadyExists ? 200 : 201).send({ credentials: result.credentials, metadata: wireMetadata(result.metadata) } satisfies BindAnswer);
    },
  );

  v2.delete(
    PATH,
    {
      schema: { params: bindingParams, querystring: deleteQuery, response: { 200: operationAnswer, 202: operationAnswer } },
      config: { operation: 'unbind' },
    },
    async (request, reply) => {
      const { instance_id, binding_id } = request.params;
      const q = request.query;
      const result = await broker.unbind(instance_id, binding_id, { serviceId: q.service_id, planId: q.plan_id }, request.osb);
      return reply.code(result.operation ? 202 : 200).send({ operation: result.operation });
    },
  );

  v2.get(
    PATH,
    // No response schema, as for bind.
    { schema: { params: bindingParams, querystring: fetchQuery }, config: { operation: 'get_binding' } },
    async (request, reply) => {
      const { instance_id, binding_id } = request.params;
      const q = request.query;
      const view = await broker.getBinding(instance_id, binding_id, { serviceId: q.service_id, planId: q.plan_id }, request.osb);
      return reply.code(200).send({ credentials: view.credentials, parameters: view.parameters, metadata: wireMetadata(view.metadata) } satisfies BindingAnswer);
    },
  );

  v2.get(
    `${PATH}/last_operation`,
    { schema: { params: bindingParams, querystring: pollQuery, response: { 200: lastOperationAnswer } }, config: { operation: 'binding_last_operation' } },
    async (request, reply) => {
      const { instance_id, binding_id } = request.params;
      const q = request.query;
      const op = await broker.lastBindingOperation(
        instance_id,
        binding_id,
        { serviceId: q.service_id, planId: q.plan_id, operation: q.operation },
        request.osb,
      );
      return reply.code(200).send({ state: op.state, description: op.description });
    },
  );
}
