import type { FastifyInstance } from 'fastify';
import { acceptsIncompleteQuery, deleteQuery, fetchQuery, instanceParams, pollQuery, provisionBody, updateBody } from '../request-schemas.ts';
import type { MaintenanceInfo, ServiceBroker } from '../service-broker.ts';
import { compact } from './compact.ts';

type Obj = Record<string, unknown>;
interface InstanceParams { instance_id: string }
interface ProvisionBody {
  service_id: string; plan_id: string; organization_guid: string; space_guid: string;
  context?: Obj; parameters?: Obj; maintenance_info?: MaintenanceInfo;
}
interface UpdateBody {
  service_id: string; plan_id?: string; context?: Obj; parameters?: Obj; previous_values?: Obj; maintenance_info?: MaintenanceInfo;
}
interface IdsQuery { service_id: string; plan_id: string }
interface PollQuery { service_id?: string; plan_id?: string; operation?: string }

export function registerInstanceRoutes(v2: FastifyInstance, broker: ServiceBroker): void {
  v2.put<{ Params: InstanceParams; Body: ProvisionBody }>(
    '/service_instances/:instance_id',
    { schema: { params: instanceParams, body: provisionBody, querystring: acceptsIncompleteQuery }, config: { operation: 'provision' } },
    async (request, reply) => {
      const b = request.body;
      const result = await broker.provision(
        request.params.instance_id,
        {
          serviceId: b.service_id, planId: b.plan_id, organizationGuid: b.organization_guid, spaceGuid: b.space_guid,
          context: b.context, parameters: b.parameters, maintenanceInfo: b.maintenance_info,
        },
        request.osb,
      );
      const body = compact({ dashboard_url: result.dashboardUrl, operation: result.operation, metadata: result.metadata });
      return reply.code(result.operation ? 202 : result.alreadyExists ? 200 : 201).send(body);
    },
  );

  v2.patch<{ Params: InstanceParams; Body: UpdateBody }>(
    '/service_instances/:instance_id',
    { schema: { params: instanceParams, body: updateBody, querystring: acceptsIncompleteQuery }, config: { operation: 'update' } },
    async (request, reply) => {
      const b = request.body;
      const result = await broker.update(
        request.params.instance_id,
        {
          serviceId: b.service_id, planId: b.plan_id, context: b.context, parameters: b.parameters,
          previousValues: b.previous_values, maintenanceInfo: b.maintenance_info,
        },
        request.osb,
      );
      return reply.code(result.operation ? 202 : 200).send(compact({ dashboard_url: result.dashboardUrl, operation: result.operation }));
    },
  );

  v2.delete<{ Params: InstanceParams; Querystring: IdsQuery }>(
    '/service_instances/:instance_id',
    { schema: { params: instanceParams, querystring: deleteQuery }, config: { operation: 'deprovision' } },
    async (request, reply) => {
      const q = request.query;
      const result = await broker.deprovision(request.params.instance_id, { serviceId: q.service_id, planId: q.plan_id }, request.osb);
      return reply.code(result.operation ? 202 : 200).send(compact({ operation: result.operation }));
    },
  );

  v2.get<{ Params: InstanceParams; Querystring: PollQuery }>(
    '/service_instances/:instance_id',
    { schema: { params: instanceParams, querystring: fetchQuery }, config: { operation: 'get_instance' } },
    async (request, reply) => {
      const q = request.query;
      const view = await broker.getInstance(request.params.instance_id, { serviceId: q.service_id, planId: q.plan_id }, request.osb);
      return reply.code(200).send(
        compact({
          service_id: view.serviceId, plan_id: view.planId, dashboard_url: view.dashboardUrl,
          parameters: view.parameters, maintenance_info: view.maintenanceInfo, metadata: view.metadata,
        }),
      );
    },
  );

  v2.get<{ Params: InstanceParams; Querystring: PollQuery }>(
    '/service_instances/:instance_id/last_operation',
    { schema: { params: instanceParams, querystring: pollQuery }, config: { operation: 'last_operation' } },
    async (request, reply) => {
      const q = request.query;
      const op = await broker.lastOperation(
        request.params.instance_id,
        { serviceId: q.service_id, planId: q.plan_id, operation: q.operation },
        request.osb,
      );
      if (op.retryAfterSeconds !== undefined) reply.header('retry-after', String(op.retryAfterSeconds));
      return reply.code(200).send(
        compact({ state: op.state, description: op.description, instance_usable: op.instanceUsable, update_repeatable: op.updateRepeatable }),
      );
    },
  );
}
