// The scan: the store's records against what RabbitMQ holds. Read-only. RabbitMQ is read with
// cluster-wide listings (a fixed number of calls, however many instances), before the store:
// every operation inserts its record before it creates an object and deletes the object before
// the record, so an object seen without a record is not one being made right now. Every finding
// is looked at again (reconcile.ts) before it is reported.
import type { PlanRabbitConfig, PolicyConfig } from '../config/config-types.ts';
import { bindingUserTags, deploymentOfUser, ownsVhost, parseVhostMarker, toPolicy } from '../broker/plan-in-rabbitmq.ts';
import { sameJson } from '../broker/same-json.ts';
import type { Permissions, Policy, TopicPermissions, UserListing, VhostInfo } from '../rabbitmq/management-api.ts';
import type { BindingRecord, InstanceRecord } from '../store/store.ts';
import type { Finding, ReconcileDeps } from './findings.ts';
import { passwordMatchesHash } from './password-check.ts';

const FULL: Permissions = { configure: '.*', write: '.*', read: '.*' };

/** Entries grouped under a key (a vhost, a user). */
type Grouped<T> = Map<string, T[]>;

export interface Snapshot {
  vhosts: Map<string, VhostInfo>;
  users: Map<string, UserListing>;
  /** Permissions by user. */
  permissions: Grouped<{ vhost: string } & Permissions>;
  /** Topic permissions by "vhost\0user". */
  topicPermissions: Grouped<TopicPermissions>;
  vhostLimits: Map<string, Record<string, number>>;
  userLimits: Map<string, Record<string, number>>;
  policies: Grouped<{ name: string } & Policy>;
  operatorPolicies: Grouped<{ name: string } & Policy>;
  instances: InstanceRecord[];
  bindings: BindingRecord[];
}

function group<T>(items: T[], key: (t: T) => string): Grouped<T> {
  const out: Grouped<T> = new Map();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

const topicKey = (vhost: string, user: string) => `${vhost}\0${user}`;

export async function takeSnapshot(deps: ReconcileDeps): Promise<Snapshot> {
  const r = deps.rabbit;
  const [vhosts, users, permissions, topics, vhostLimits, userLimits, policies, operatorPolicies] = await Promise.all([
    r.listVhosts(), r.listUsers(), r.listAllPermissions(), r.listAllTopicPermissions(), r.listAllVhostLimits(), r.listAllUserLimits(),
    r.listAllPolicies(), r.listAllOperatorPolicies(),
  ]);
  const instances = await deps.store.listInstances();
  const bindings = await deps.store.listAllBindings();
  return {
    vhosts: new Map(vhosts.map((v) => [v.name, v])),
    users: new Map(users.map((u) => [u.name, u])),
    permissions: group(permissions, (p) => p.user),
    topicPermissions: group(topics, (t) => topicKey(t.vhost, t.user)),
    vhostLimits, userLimits,
    policies: group(policies, (p) => p.vhost),
    operatorPolicies: group(operatorPolicies, (p) => p.vhost),
    instances, bindings,
  };
}

/** Every difference between the store and RabbitMQ that this deployment owns. */
export async function scanOnce(deps: ReconcileDeps, snap: Snapshot): Promise<Finding[]> {
  const findings: Finding[] = [...orphans(deps, snap)];
  const byInstance = new Map<string, BindingRecord[]>();
  for (const b of snap.bindings) byInstance.set(b.instanceId, [...(byInstance.get(b.instanceId) ?? []), b]);
  // Records being created, changed or deleted are an operation's business, not drift.
  for (const inst of snap.instances.filter((i) => i.state === 'ready')) {
    findings.push(...(await instanceDrift(deps, snap, inst, (byInstance.get(inst.id) ?? []).filter((b) => b.state === 'ready'))));
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
  if (vhost && plan) out.push(...vhostSettingsDrift(deps, snap, inst, plan));
  for (const b of bindings) {
    const user = snap.users.get(b.username);
    const bat = { ...at, bindingId: b.id, username: b.username };
    // The stored password, opened only here (the listing leaves credentials sealed).
    const password = (await deps.store.getBinding(b.id))?.credentials?.password;
    if (!user) {
      const stored = typeof password === 'string';
      out.push({
        ...bat, kind: 'missing_user', fixable: stored,
        detail: `binding ${b.id}: user ${b.username} is missing${stored ? '' : ' (no stored credentials: adopted without them)'}`,
      });
      continue;
    }
    if (vhost && plan) out.push(...userDrift(deps, snap, user, typeof password === 'string' ? password : undefined, plan, inst.vhost, bat));
  }
  return out;
}

function vhostSettingsDrift(deps: ReconcileDeps, snap: Snapshot, inst: InstanceRecord, plan: PlanRabbitConfig): Finding[] {
  const out: Finding[] = [];
  const at = { instanceId: inst.id, vhost: inst.vhost, fixable: true };
  const wantLimits = planLimits({ 'max-connections': plan.vhost_limits.max_connections, 'max-queues': plan.vhost_limits.max_queues });
  const limitDiff = diffLimits(wantLimits, snap.vhostLimits.get(inst.vhost) ?? {}, ['max-connections', 'max-queues']);
  if (limitDiff) out.push({ ...at, kind: 'vhost_limits', detail: `vhost ${inst.vhost}: ${limitDiff}` });
  const policyDiff = diffPolicies(plan.policies, snap.policies.get(inst.vhost) ?? []);
  if (policyDiff) out.push({ ...at, kind: 'policies', detail: `vhost ${inst.vhost}: ${policyDiff}` });
  const opDiff = diffPolicies(plan.operator_policies, snap.operatorPolicies.get(inst.vhost) ?? []);
  if (opDiff) out.push({ ...at, kind: 'operator_policies', detail: `vhost ${inst.vhost}: ${opDiff}` });
  const admin = (snap.permissions.get(deps.adminUsername) ?? []).find((p) => p.vhost === inst.vhost);
  if (!admin || !samePermissions(admin, FULL)) {
    out.push({ ...at, kind: 'permissions', username: deps.adminUsername, detail: `vhost ${inst.vhost}: administrator ${deps.adminUsername} ${admin ? 'has reduced' : 'lacks'} permissions` });
  }
  return out;
}

function userDrift(
  deps: ReconcileDeps, snap: Snapshot, user: UserListing, password: string | undefined, plan: PlanRabbitConfig, vhost: string, at: Partial<Finding>,
): Finding[] {
  const out: Finding[] = [];
  const base = { ...at, fixable: true };
  const name = user.name;
  if (password !== undefined && user.passwordHash && user.hashingAlgorithm && passwordMatchesHash(password, user.passwordHash, user.hashingAlgorithm) === false) {
    out.push({ ...base, kind: 'credentials', detail: `user ${name}: its password is no longer the one handed to the app` });
  }
  const wantTags = bindingUserTags(plan, deps.deploymentId);
  if (!sameSet(wantTags, user.tags)) out.push({ ...base, kind: 'user_tags', detail: `user ${name}: tags [${user.tags.join(', ')}], plan says [${wantTags.join(', ')}]` });
  const perms = snap.permissions.get(name) ?? [];
  const here = perms.find((p) => p.vhost === vhost);
  const elsewhere = perms.filter((p) => p.vhost !== vhost).map((p) => p.vhost);
  if (!here || !samePermissions(here, plan.permissions) || elsewhere.length > 0) {
    const what = !here ? 'has no permissions on its vhost' : elsewhere.length > 0 ? `also has permissions on ${elsewhere.join(', ')}` : 'has permissions that differ from the plan';
    out.push({ ...base, kind: 'permissions', detail: `user ${name} ${what}` });
  }
  const key = (t: TopicPermissions) => JSON.stringify([t.exchange, t.write, t.read]);
  if (!sameSet(plan.topic_permissions.map(key), (snap.topicPermissions.get(topicKey(vhost, name)) ?? []).map(key))) {
    out.push({ ...base, kind: 'topic_permissions', detail: `user ${name}: topic permissions differ from the plan` });
  }
  const wantLimits = planLimits({ 'max-connections': plan.user_limits.max_connections, 'max-channels': plan.user_limits.max_channels });
  const limitDiff = diffLimits(wantLimits, snap.userLimits.get(name) ?? {}, ['max-connections', 'max-channels']);
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
