import type { ServiceBroker } from '../../contract/service-broker.ts';
import { acceptsIncompleteQuery, deleteQuery, fetchQuery, instanceParams, pollQuery, provisionBody, updateBody } from '../request-schemas.ts';
import { instanceAnswer, lastOperationAnswer, operationAnswer, provisionAnswer, updateAnswer } from '../response-schemas.ts';
import { provisionDetails, updateDetails } from './instance-details.ts';
import type { TypedRoutes } from './typed-routes.ts';

const PATH = '/service_instances/:instance_id';

export function registerInstanceRoutes(v2: TypedRoutes, broker: ServiceBroker): void {
  v2.put(
    PATH,
    {
      schema: {
        params: instanceParams, body: provisionBody, querystring: acceptsIncompleteQuery,
        response: { 200: provisionAnswer, 201: provisionAnswer, 202: provisionAnswer },
      },
      config: { operation: 'provision' },
    },
    async (request, reply) => {
      const result = await broker.provision(request.params.instance_id, provisionDetails(request.body), request.osb);
      return reply
        .code(result.operation ? 202 : result.alreadyExists ? 200 : 201)
        .send({ dashboard_url: result.dashboardUrl, operation: result.operation, metadata: result.metadata });
    },
  );

  v2.patch(
    PATH,
    {
      schema: { params: instanceParams, body: updateBody, querystring: acceptsIncompleteQuery, response: { 200: updateAnswer, 202: updateAnswer } },
      config: { operation: 'update' },
    },
    async (request, reply) => {
      const result = await broker.update(request.params.instance_id, updateDetails(request.body), request.osb);
      return reply.code(result.operation ? 202 : 200).send({ dashboard_url: result.dashboardUrl, operation: result.operation });
    },
  );

  v2.delete(
    PATH,
    {
      schema: { params: instanceParams, querystring: deleteQuery, response: { 200: operationAnswer, 202: operationAnswer } },
      config: { operation: 'deprovision' },
    },
    async (request, reply) => {
      const q = request.query;
      const result = await broker.deprovision(request.params.instance_id, { serviceId: q.service_id, planId: q.plan_id }, request.osb);
      return reply.code(result.operation ? 202 : 200).send({ operation: result.operation });
    },
  );

  v2.get(
    PATH,
    { schema: { params: instanceParams, querystring: fetchQuery, response: { 200: instanceAnswer } }, config: { operation: 'get_instance' } },
    async (request, reply) => {
      const q = request.query;
      const view = await broker.getInstance(request.params.instance_id, { serviceId: q.service_id, planId: q.plan_id }, request.osb);
      return reply.code(200).send({
        service_id: view.serviceId, plan_id: view.planId, dashboard_url: view.dashboardUrl,
        parameters: view.parameters, maintenance_info: view.maintenanceInfo, metadata: view.metadata,
      });
    },
  );

  v2.get(
    `${PATH}/last_operation`,
    { schema: { params: instanceParams, querystring: pollQuery, response: { 200: lastOperationAnswer } }, config: { operation: 'last_operation' } },
    async (request, reply) => {
      const q = request.query;
      const op = await broker.lastOperation(
        request.params.instance_id,
        { serviceId: q.service_id, planId: q.plan_id, operation: q.operation },
        request.osb,
      );
      if (op.retryAfterSeconds !== undefined) reply.header('retry-after', String(op.retryAfterSeconds));
      return reply.code(200).send({
        state: op.state, description: op.description, instance_usable: op.instanceUsable, update_repeatable: op.updateRepeatable,
      });
    },
  );
}
