import type { FastifyInstance } from 'fastify';
import { bindBody, bindingParams, deleteQuery, fetchQuery, pollQuery } from '../request-schemas.ts';
import type { ServiceBroker } from '../service-broker.ts';
import { compact } from './compact.ts';

type Obj = Record<string, unknown>;
interface BindingParams { instance_id: string; binding_id: string }
interface BindBody {
  service_id: string; plan_id: string; app_guid?: string; bind_resource?: Obj; context?: Obj; parameters?: Obj;
  predecessor_binding_id?: string;
}
interface IdsQuery { service_id: string; plan_id: string }
interface PollQuery { service_id?: string; plan_id?: string; operation?: string }

const PATH = '/service_instances/:instance_id/service_bindings/:binding_id';

export function registerBindingRoutes(v2: FastifyInstance, broker: ServiceBroker): void {
  v2.put<{ Params: BindingParams; Body: BindBody }>(
    PATH,
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
      if (result.operation) return reply.code(202).send({ operation: result.operation });
      return reply.code(result.alreadyExists ? 200 : 201).send(compact({ credentials: result.credentials, metadata: result.metadata }));
    },
  );

  v2.delete<{ Params: BindingParams; Querystring: IdsQuery }>(
    PATH,
    { schema: { params: bindingParams, querystring: deleteQuery }, config: { operation: 'unbind' } },
    async (request, reply) => {
      const { instance_id, binding_id } = request.params;
      const q = request.query;
      const result = await broker.unbind(instance_id, binding_id, { serviceId: q.service_id, planId: q.plan_id }, request.osb);
      return reply.code(result.operation ? 202 : 200).send(compact({ operation: result.operation }));
    },
  );

  v2.get<{ Params: BindingParams; Querystring: PollQuery }>(
    PATH,
    { schema: { params: bindingParams, querystring: fetchQuery }, config: { operation: 'get_binding' } },
    async (request, reply) => {
      const { instance_id, binding_id } = request.params;
      const q = request.query;
      const view = await broker.getBinding(instance_id, binding_id, { serviceId: q.service_id, planId: q.plan_id }, request.osb);
      return reply.code(200).send(compact({ credentials: view.credentials, parameters: view.parameters, metadata: view.metadata }));
    },
  );

  v2.get<{ Params: BindingParams; Querystring: PollQuery }>(
    `${PATH}/last_operation`,
    { schema: { params: bindingParams, querystring: pollQuery }, config: { operation: 'binding_last_operation' } },
    async (request, reply) => {
      const { instance_id, binding_id } = request.params;
      const q = request.query;
      const op = await broker.lastBindingOperation(
        instance_id,
        binding_id,
        { serviceId: q.service_id, planId: q.plan_id, operation: q.operation },
        request.osb,
      );
      return reply.code(200).send(compact({ state: op.state, description: op.description }));
    },
  );
}
