// Migration from pivotal-cf's multitenant RabbitMQ broker (the Go broker). It keeps no store:
// an instance is a vhost named after the instance id (no description), a binding is a user named
// after the binding id with full permissions on that vhost only. Adopting writes the records
// warren needs (so unbind and deprovision from the platform work) and then marks the vhost and
// users as this deployment's. The Go broker never stored passwords: adopted bindings have no
// credentials in the store, and each user's password hash is kept as it is, so the apps'
// credentials keep working. `warren reconcile --fix` afterwards applies the plan's settings.
import { deploymentOfUser, deploymentTag, parseVhostMarker, vhostMarker } from '../broker/plan-in-rabbitmq.ts';
import type { PlanRef } from '../broker/service-catalog.ts';
import { ID_PATTERN } from '../contract/resource-ids.ts';
import type { InstanceRecord } from '../store/store.ts';
import type { ReconcileDeps } from './findings.ts';

export const ADOPTED_FROM = 'cf-rabbitmq-multitenant-broker';

/** Cloud Foundry ids are GUIDs: without --instance, only such vhosts are candidates. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VALID_ID = new RegExp(ID_PATTERN);

export interface AdoptOptions {
  /** Plan name or id the instances are recorded with. */
  plan: string;
  service?: string;
  /** Vhosts to adopt; empty: every unmarked vhost named like a GUID. */
  instances: string[];
  dryRun: boolean;
}

export interface AdoptedInstance {
  instanceId: string;
  bindings: string[];
}

export interface AdoptionResult {
  deploymentId: string;
  planName: string;
  dryRun: boolean;
  adopted: AdoptedInstance[];
  skipped: Array<{ name: string; reason: string }>;
  failed: Array<{ name: string; error: string }>;
}

export async function adopt(deps: ReconcileDeps, opts: AdoptOptions): Promise<AdoptionResult> {
  const ref = onePlan(deps, opts);
  const result: AdoptionResult = { deploymentId: deps.deploymentId, planName: ref.plan.name, dryRun: opts.dryRun, adopted: [], skipped: [], failed: [] };
  const vhosts = await deps.rabbit.listVhosts();
  const byName = new Map(vhosts.map((v) => [v.name, v]));
  const known = new Set((await deps.store.listInstances()).map((i) => i.vhost));
  const knownUsers = new Set((await deps.store.listAllBindings()).map((b) => b.username));
  const names = opts.instances.length > 0 ? opts.instances : vhosts.map((v) => v.name).filter((n) => GUID.test(n));
  for (const name of names) {
    const vhost = byName.get(name);
    const skip = (reason: string) => result.skipped.push({ name, reason });
    if (!vhost) { skip('no such vhost'); continue; }
    if (known.has(name)) { skip('already in the store'); continue; }
    const marker = parseVhostMarker(vhost.description);
    if (marker) { skip(marker.deploymentId === deps.deploymentId ? 'already marked as this deployment\'s (an orphan: see warren reconcile)' : 'made by another warren deployment'); continue; }
    if (vhost.description) { skip('has a description: not made by the Go broker'); continue; }
    if (!VALID_ID.test(name)) { skip('name is not a valid OSBAPI instance id'); continue; }
    try {
      const bindings = await bindingUsers(deps, name, knownUsers, (user, reason) => result.skipped.push({ name: `${name}/${user}`, reason }));
      if (!opts.dryRun) await adoptOne(deps, ref, name, bindings);
      result.adopted.push({ instanceId: name, bindings });
    } catch (err) {
      result.failed.push({ name, error: (err as Error).message });
    }
  }
  return result;
}

function onePlan(deps: ReconcileDeps, opts: AdoptOptions): PlanRef {
  const found = deps.catalog.findPlans(opts.plan, opts.service);
  if (found.length === 1) return found[0]!;
  throw new Error(found.length === 0 ? `no plan "${opts.plan}"${opts.service ? ` in service "${opts.service}"` : ''} in the catalog` : `plan "${opts.plan}" is in several services: name one with --service`);
}

/**
 * The Go broker's binding users of a vhost: users with permissions there and nowhere else,
 * never an administrator, never warren's own admin account, never its legacy `mu-<instance>-`
 * management users (the Go broker deletes those itself on deprovision; they are reported).
 */
async function bindingUsers(deps: ReconcileDeps, vhost: string, knownUsers: Set<string>, skip: (user: string, reason: string) => void): Promise<string[]> {
  const out: string[] = [];
  for (const p of await deps.rabbit.listVhostPermissions(vhost)) {
    const name = p.user;
    if (name === deps.adminUsername) continue;
    if (knownUsers.has(name)) { skip(name, 'already in the store'); continue; }
    if (name.startsWith(`mu-${vhost}-`)) { skip(name, 'a legacy management user of the Go broker, not a binding: delete it by hand'); continue; }
    if (!VALID_ID.test(name)) { skip(name, 'name is not a valid OSBAPI binding id'); continue; }
    const user = await deps.rabbit.getUser(name);
    if (!user) continue;
    if (user.tags.includes('administrator')) { skip(name, 'an administrator: never adopted'); continue; }
    const owner = deploymentOfUser(user.tags);
    if (owner !== null) { skip(name, owner === deps.deploymentId ? 'already marked as this deployment\'s' : 'made by another warren deployment'); continue; }
    const elsewhere = (await deps.rabbit.listUserPermissions(name)).filter((x) => x.vhost !== vhost);
    if (elsewhere.length > 0) { skip(name, `also has permissions on ${elsewhere.map((x) => x.vhost).join(', ')}: not a binding user`); continue; }
    out.push(name);
  }
  return out;
}

/** Records first, marks after: a run cut short is finished by running it again. */
async function adoptOne(deps: ReconcileDeps, ref: PlanRef, vhost: string, bindings: string[]): Promise<void> {
  const at = new Date().toISOString();
  const context = { adopted_from: ADOPTED_FROM, adopted_at: at };
  const instance: InstanceRecord = {
    id: vhost, serviceId: ref.service.id, planId: ref.plan.id,
    // The Go broker kept neither: platforms do not send them again after provisioning.
    organizationGuid: '', spaceGuid: '',
    parameters: null, context, maintenanceInfoVersion: ref.plan.maintenance_info?.version ?? null,
    vhost, dashboardUrl: null, state: 'ready', createdAt: at, updatedAt: at,
  };
  if (!(await deps.store.insertInstance(instance))) throw new Error(`instance ${vhost} was recorded meanwhile`);
  for (const username of bindings) {
    await deps.store.insertBinding({
      id: username, instanceId: vhost, serviceId: ref.service.id, planId: ref.plan.id, appGuid: null, bindResource: null,
      parameters: null, context, predecessorBindingId: null, username, credentials: null, state: 'ready', createdAt: at, updatedAt: at,
    });
  }
  await deps.rabbit.putVhost(vhost, { description: vhostMarker(vhost, deps.deploymentId), tags: ['warren'] });
  for (const username of bindings) {
    const hash = await deps.rabbit.getUserHash(username);
    if (!hash) continue; // unbound meanwhile: reconcile reports the record as missing its user
    // The hash, not a password: the app's credentials stay as they are.
    await deps.rabbit.putUserHash(username, { ...hash, tags: [...hash.tags, deploymentTag(deps.deploymentId)] });
  }
}
