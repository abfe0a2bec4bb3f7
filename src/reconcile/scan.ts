// The scan: the store's records against what RabbitMQ holds. Read-only. RabbitMQ is listed
// before the store is read: every operation inserts its record before it creates an object and
// deletes the object before the record, so an object seen without a record is not one being
// made right now. Every candidate is then looked at again (confirm.ts) before it is reported.
import type { PlanRabbitConfig, PolicyConfig } from '../config/config-types.ts';
import { bindingUserTags, deploymentOfUser, ownsVhost, parseVhostMarker, toPolicy } from '../broker/plan-in-rabbitmq.ts';
import { sameJson } from '../broker/same-json.ts';
import { ManagementError } from '../rabbitmq/errors.ts';
import type { Permissions, Policy, UserInfo, VhostInfo } from '../rabbitmq/management-api.ts';
import type { BindingRecord, InstanceRecord } from '../store/store.ts';
import type { Finding, ReconcileDeps } from './findings.ts';
import { passwordMatchesHash } from './password-check.ts';

/** Instances compared at once: a few management calls each, all cheap GETs. */
const PARALLEL_INSTANCES = 4;

const FULL: Permissions = { configure: '.*', write: '.*', read: '.*' };

export interface Snapshot {
  vhosts: Map<string, VhostInfo>;
  users: Map<string, UserInfo>;
  instances: InstanceRecord[];
  bindings: BindingRecord[];
}

export async function takeSnapshot(deps: ReconcileDeps): Promise<Snapshot> {
  const [vhosts, users] = await Promise.all([deps.rabbit.listVhosts(), deps.rabbit.listUsers()]);
  const instances = await deps.store.listInstances();
  const bindings = await deps.store.listAllBindings();
  return { vhosts: new Map(vhosts.map((v) => [v.name, v])), users: new Map(users.map((u) => [u.name, u])), instances, bindings };
}

/** Every difference between the store and RabbitMQ that this deployment owns. */
export async function scanOnce(deps: ReconcileDeps, snap: Snapshot): Promise<Finding[]> {
  const findings: Finding[] = [...orphans(deps, snap)];
  const byInstance = new Map<string, BindingRecord[]>();
  for (const b of snap.bindings) byInstance.set(b.instanceId, [...(byInstance.get(b.instanceId) ?? []), b]);
  // Records being created, changed or deleted are an operation's business, not drift.
  const settled = snap.instances.filter((i) => i.state === 'ready');
  for (let i = 0; i < settled.length; i += PARALLEL_INSTANCES) {
    const batch = await Promise.all(
      settled.slice(i, i + PARALLEL_INSTANCES).map((inst) => instanceDrift(deps, snap, inst, (byInstance.get(inst.id) ?? []).filter((b) => b.state === 'ready')).catch((err: unknown) => {
        // The vhost went away after the listing (a deprovision beside us): the next look settles it.
        if (err instanceof ManagementError && err.status === 404) return [];
        throw err;
      })),
    );
    for (const f of batch) findings.push(...f);
  }
  return findings;
}

function orphans(deps: ReconcileDeps, snap: Snapshot): Finding[] {
  const out: Finding[] = [];
  const knownVhosts = new Set(snap.instances.map((i) => i.vhost));
  const knownUsers = new Set(snap.bindings.map((b) => b.username));
  for (const v of snap.vhosts.values()) {
    const marker = parseVhostMarker(v.description);
    // Only this deployment's own mark proves ownership; an older mark without an id proves nothing without a record.
    if (marker?.deploymentId !== deps.deploymentId || knownVhosts.has(v.name)) continue;
    out.push({ kind: 'orphan_vhost', vhost: v.name, instanceId: marker.instanceId, detail: `vhost ${v.name} was made by this deployment but no instance record knows it`, fixable: true });
  }
  for (const u of snap.users.values()) {
    if (deploymentOfUser(u.tags) !== deps.deploymentId || knownUsers.has(u.name)) continue;
    out.push({ kind: 'orphan_user', username: u.name, detail: `user ${u.name} was made by this deployment but no binding record knows it`, fixable: true });
  }
  return out;
}

async function instanceDrift(deps: ReconcileDeps, snap: Snapshot, inst: InstanceRecord, bindings: BindingRecord[]): Promise<Finding[]> {
  const out: Finding[] = [];
  const at = { instanceId: inst.id, vhost: inst.vhost };
  const vhost = snap.vhosts.get(inst.vhost);
  if (!vhost) {
    out.push({ ...at, kind: 'missing_vhost', detail: `instance ${inst.id}: vhost ${inst.vhost} is missing`, fixable: true });
  } else if (!ownsVhost(vhost.description, inst.id, deps.deploymentId)) {
    // Never overwrite a vhost someone else made, even one of the record's name.
    out.push({ ...at, kind: 'missing_vhost', detail: `instance ${inst.id}: vhost ${inst.vhost} exists but is not marked as this deployment's`, fixable: false });
    return out;
  }
  const ref = deps.catalog.plan(inst.serviceId, inst.planId);
  if (!ref) {
    out.push({ ...at, kind: 'unknown_plan', detail: `instance ${inst.id}: plan ${inst.planId} is not in the catalog; its settings cannot be compared`, fixable: false });
  }
  const plan = ref?.plan.rabbitmq;
  if (vhost && plan) out.push(...(await vhostSettingsDrift(deps, inst, plan)));
  for (const b of bindings) {
    const user = snap.users.get(b.username);
    const bat = { ...at, bindingId: b.id, username: b.username };
    if (!user) {
      const full = await deps.store.getBinding(b.id);
      const stored = typeof full?.credentials?.password === 'string';
      out.push({
        ...bat, kind: 'missing_user', fixable: stored,
        detail: `binding ${b.id}: user ${b.username} is missing${stored ? '' : ' (no stored credentials: adopted without them)'}`,
      });
      continue;
    }
    if (vhost && plan) out.push(...(await userDrift(deps, b, user, plan, inst.vhost, bat)));
  }
  return out;
}

async function vhostSettingsDrift(deps: ReconcileDeps, inst: InstanceRecord, plan: PlanRabbitConfig): Promise<Finding[]> {
  const out: Finding[] = [];
  const at = { instanceId: inst.id, vhost: inst.vhost, fixable: true };
  const [limits, policies, operatorPolicies, perms] = await Promise.all([
    deps.rabbit.getVhostLimits(inst.vhost),
    deps.rabbit.listPolicies(inst.vhost),
    deps.rabbit.listOperatorPolicies(inst.vhost),
    deps.rabbit.listVhostPermissions(inst.vhost),
  ]);
  const wantLimits = planLimits({ 'max-connections': plan.vhost_limits.max_connections, 'max-queues': plan.vhost_limits.max_queues });
  const limitDiff = diffLimits(wantLimits, limits ?? {}, ['max-connections', 'max-queues']);
  if (limitDiff) out.push({ ...at, kind: 'vhost_limits', detail: `vhost ${inst.vhost}: ${limitDiff}` });
  const policyDiff = diffPolicies(plan.policies, policies);
  if (policyDiff) out.push({ ...at, kind: 'policies', detail: `vhost ${inst.vhost}: ${policyDiff}` });
  const opDiff = diffPolicies(plan.operator_policies, operatorPolicies);
  if (opDiff) out.push({ ...at, kind: 'operator_policies', detail: `vhost ${inst.vhost}: ${opDiff}` });
  const admin = perms.find((p) => p.user === deps.adminUsername);
  if (!admin || !samePermissions(admin, FULL)) {
    out.push({ ...at, kind: 'permissions', username: deps.adminUsername, detail: `vhost ${inst.vhost}: administrator ${deps.adminUsername} ${admin ? 'has reduced' : 'lacks'} permissions` });
  }
  return out;
}

async function userDrift(
  deps: ReconcileDeps, b: BindingRecord, user: UserInfo, plan: PlanRabbitConfig, vhost: string, at: Partial<Finding>,
): Promise<Finding[]> {
  const out: Finding[] = [];
  const base = { ...at, fixable: true };
  const name = b.username;
  const [full, hash, perms, topics, limits] = await Promise.all([
    deps.store.getBinding(b.id),
    deps.rabbit.getUserHash(name),
    deps.rabbit.listUserPermissions(name),
    deps.rabbit.listTopicPermissions(vhost, name),
    deps.rabbit.getUserLimits(name),
  ]);
  const password = full?.credentials?.password;
  if (typeof password === 'string' && hash && passwordMatchesHash(password, hash.passwordHash, hash.hashingAlgorithm) === false) {
    out.push({ ...base, kind: 'credentials', detail: `user ${name}: its password is no longer the one handed to the app` });
  }
  const wantTags = bindingUserTags(plan, deps.deploymentId);
  if (!sameSet(wantTags, user.tags)) out.push({ ...base, kind: 'user_tags', detail: `user ${name}: tags [${user.tags.join(', ')}], plan says [${wantTags.join(', ')}]` });
  const here = perms.find((p) => p.vhost === vhost);
  const elsewhere = perms.filter((p) => p.vhost !== vhost).map((p) => p.vhost);
  if (!here || !samePermissions(here, plan.permissions) || elsewhere.length > 0) {
    const what = !here ? 'has no permissions on its vhost' : elsewhere.length > 0 ? `also has permissions on ${elsewhere.join(', ')}` : 'has permissions that differ from the plan';
    out.push({ ...base, kind: 'permissions', detail: `user ${name} ${what}` });
  }
  const key = (t: { exchange: string; write: string; read: string }) => JSON.stringify([t.exchange, t.write, t.read]);
  if (!sameSet(plan.topic_permissions.map(key), topics.map(key))) {
    out.push({ ...base, kind: 'topic_permissions', detail: `user ${name}: topic permissions differ from the plan` });
  }
  const wantLimits = planLimits({ 'max-connections': plan.user_limits.max_connections, 'max-channels': plan.user_limits.max_channels });
  const limitDiff = diffLimits(wantLimits, limits, ['max-connections', 'max-channels']);
  if (limitDiff) out.push({ ...base, kind: 'user_limits', detail: `user ${name}: ${limitDiff}` });
  return out;
}

const planLimits = (m: Record<string, number | undefined>): Record<string, number> =>
  Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => e[1] !== undefined));

/** Only the limits warren sets are compared: other kinds belong to the operator. */
function diffLimits(want: Record<string, number>, have: Record<string, number>, names: string[]): string | null {
  const parts: string[] = [];
  for (const n of names) {
    if (want[n] !== have[n]) parts.push(`${n} is ${have[n] ?? 'unset'}, plan says ${want[n] ?? 'unset'}`);
  }
  return parts.length > 0 ? parts.join('; ') : null;
}

/**
 * The plan's policies must be there as the plan says. Others in the vhost are left alone: binding
 * users with the policymaker tag may make their own.
 */
function diffPolicies(want: PolicyConfig[], have: Array<{ name: string } & Policy>): string | null {
  const parts: string[] = [];
  for (const p of want) {
    const h = have.find((x) => x.name === p.name);
    if (!h) parts.push(`policy ${p.name} is missing`);
    else if (!samePolicy(toPolicy(p), h)) parts.push(`policy ${p.name} differs from the plan`);
  }
  return parts.length > 0 ? parts.join('; ') : null;
}

function samePolicy(want: Policy, have: Policy): boolean {
  return want.pattern === have.pattern && (want.priority ?? 0) === (have.priority ?? 0) && (want['apply-to'] ?? 'all') === (have['apply-to'] ?? 'all') && sameJson(want.definition, have.definition);
}

const samePermissions = (a: Permissions, b: Permissions) => a.configure === b.configure && a.write === b.write && a.read === b.read;

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}
