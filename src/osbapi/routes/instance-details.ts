// The request bodies of provision and update, from the wire's snake_case to the contract's shape.
import type { Static } from '@sinclair/typebox';
import type { ProvisionDetails, UpdateDetails } from '../../contract/service-broker.ts';
import type { provisionBody, updateBody } from '../request-schemas.ts';

export const provisionDetails = (b: Static<typeof provisionBody>): ProvisionDetails => ({
  serviceId: b.service_id, planId: b.plan_id, organizationGuid: b.organization_guid, spaceGuid: b.space_guid,
  context: b.context, parameters: b.parameters, maintenanceInfo: b.maintenance_info,
});

export const updateDetails = (b: Static<typeof updateBody>): UpdateDetails => ({
  serviceId: b.service_id, planId: b.plan_id, context: b.context, parameters: b.parameters,
  previousValues: b.previous_values, maintenanceInfo: b.maintenance_info,
});
