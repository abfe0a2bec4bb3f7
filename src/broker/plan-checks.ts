// Request checks that depend on the catalog: known ids, maintenance_info agreement.
import type { PlanConfig } from '../config/config-types.ts';
import { badRequest, maintenanceInfoConflict } from '../contract/broker-errors.ts';
import type { MaintenanceInfo } from '../contract/service-broker.ts';
import type { PlanRef, ServiceCatalog } from './service-catalog.ts';

export function requirePlan(catalog: ServiceCatalog, serviceId: string, planId: string): PlanRef {
  if (!catalog.service(serviceId)) throw badRequest(`service_id "${serviceId}" is not in the catalog`);
  const ref = catalog.plan(serviceId, planId);
  if (!ref) throw badRequest(`plan_id "${planId}" is not a plan of service "${serviceId}"`);
  return ref;
}

/** An empty maintenance_info ({}) never conflicts; a version must equal the plan's. */
export function checkMaintenanceInfo(plan: PlanConfig, given: MaintenanceInfo | undefined): void {
  const version = given?.version;
  if (version === undefined) return;
  if (!plan.maintenance_info) {
    throw maintenanceInfoConflict(`plan "${plan.name}" has no maintenance_info, but version ${version} was requested`);
  }
  if (plan.maintenance_info.version !== version) {
    throw maintenanceInfoConflict(
      `maintenance_info.version ${version} does not match plan "${plan.name}" (${plan.maintenance_info.version}); fetch the catalog again`,
    );
  }
}
