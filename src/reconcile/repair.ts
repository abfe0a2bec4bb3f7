// --fix: makes RabbitMQ match the store again. Orphans are deleted; a missing vhost or user is
// made again from its record (a user with its stored password, so the app's credentials work
// again); drifted settings are re-applied from the plan. What the plan does not own (other
// limits, users' own policies) is left alone.
import type { PlanRabbitConfig } from '../config/config-types.ts';
import {
  applyTopicPermissions, applyUserLimits, applyUserPlan, applyVhostPlan, bindingUserTags, deploymentOfUser, ownsVhost, parseVhostMarker, vhostMarker,
} from '../broker/plan-in-rabbitmq.ts';
import type { BindingRecord, InstanceRecord } from '../store/store.ts';
import type { Finding, ReconcileDeps } from './findings.ts';

export interface RepairOutcome {
  finding: Finding;
  repaired: boolean;
  /** Why a repair failed or was not attempted (never a secret). */
  error?: string;
}

const FULL = { configure: '.*', write: '.*', read: '.*' };

export async function repair(deps: ReconcileDeps, findings: Finding[]): Promise<RepairOutcome[]> {
  const outcomes: RepairOutcome[] = [];
  // Orphans first, each on its own; then each instance's findings together.
  for (const f of findings.filter((x) => x.kind === 'orphan_vhost' || x.kind === 'orphan_user')) {
    outcomes.push(await attempt(f, () => removeOrphan(deps, f)));
  }
  const byInstance = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.kind === 'orphan_vhost' || f.kind === 'orphan_user') continue;
    if (!f.fixable || f.instanceId === undefined) {
      outcomes.push({ finding: f, repaired: false, error: 'not repairable by reconcile' });
      continue;
    }
    byInstance.set(f.instanceId, [...(byInstance.get(f.instanceId) ?? []), f]);
  }
  for (const [instanceId, list] of byInstance) outcomes.push(...(await repairInstance(deps, instanceId, list)));
  return outcomes;
}

async function attempt(finding: Finding, fn: () => Promise<void>): Promise<RepairOutcome> {
  try {
    await fn();
    return { finding, repaired: true };
  } catch (err) {
    return { finding, repaired: false, error: (err as Error).message };
  }
}

/** Looks once more right before deleting: still ours, still without a record. */
async function removeOrphan(deps: ReconcileDeps, f: Finding): Promise<void> {
  if (f.kind === 'orphan_vhost' && f.vhost !== undefined) {
    const v = await deps.rabbit.getVhost(f.vhost);
    if (!v || parseVhostMarker(v.description)?.deploymentId !== deps.deploymentId) return;
    if ((await deps.store.listInstances()).some((i) => i.vhost === f.vhost)) throw new Error(`vhost ${f.vhost} has a record again; left alone`);
    await deps.rabbit.deleteVhost(f.vhost);
    deps.log.warn({ reconcile: 'repaired', kind: f.kind, vhost: f.vhost }, 'reconcile deleted an orphan vhost');
  } else if (f.kind === 'orphan_user' && f.username !== undefined) {
    const u = await deps.rabbit.getUser(f.username);
    if (!u || deploymentOfUser(u.tags) !== deps.deploymentId) return;
    if ((await deps.store.listAllBindings()).some((b) => b.username === f.username)) throw new Error(`user ${f.username} has a record again; left alone`);
    // RabbitMQ closes the user's connections with it.
    await deps.rabbit.deleteUser(f.username);
    deps.log.warn({ reconcile: 'repaired', kind: f.kind, username: f.username }, 'reconcile deleted an orphan user');
  }
}

async function repairInstance(deps: ReconcileDeps, instanceId: string, findings: Finding[]): Promise<RepairOutcome[]> {
  // The record again: an operation may have started or finished since the scan (it sets the
  // instance's state first), and then the instance is its business, not ours.
  const inst = await deps.store.getInstance(instanceId);
  const ref = inst ? deps.catalog.plan(inst.serviceId, inst.planId) : undefined;
  if (inst?.state !== 'ready' || !ref) {
    return findings.map((finding) => ({ finding, repaired: false, error: 'the instance changed since the scan; run reconcile again' }));
  }
  const plan = ref.plan.rabbitmq;
  const outcomes: RepairOutcome[] = [];
  const vhostKinds = new Set(findings.filter((f) => f.bindingId === undefined).map((f) => f.kind));
  const vhostFindings = findings.filter((f) => f.bindingId === undefined);
  if (vhostFindings.length > 0) {
    const fn = async () => {
      if (vhostKinds.has('missing_vhost')) {
        // Someone may have made a vhost of that name since: never take over theirs.
        const now = await deps.rabbit.getVhost(inst.vhost);
        if (now && !ownsVhost(now.description, inst.id, deps.deploymentId)) throw new Error(`vhost ${inst.vhost} exists now and is not this deployment's; left alone`);
        await deps.rabbit.putVhost(inst.vhost, {
          description: vhostMarker(inst.id, deps.deploymentId), tags: ['warren'],
          ...(plan.default_queue_type ? { defaultQueueType: plan.default_queue_type } : {}),
        });
      }
      if (vhostKinds.has('vhost_limits')) await removeUnplannedVhostLimits(deps, inst.vhost, plan);
      await deps.rabbit.putPermissions(inst.vhost, deps.adminUsername, FULL);
      await applyVhostPlan(deps.rabbit, inst.vhost, plan);
    };
    const outcome = await attempt(vhostFindings[0]!, fn);
    for (const f of vhostFindings) outcomes.push({ ...outcome, finding: f });
  }
  // A recreated vhost has lost every binding user's permissions: all of them are re-applied.
  const bindings = (await deps.store.listBindings(inst.id)).filter((b) => b.state === 'ready');
  for (const b of bindings) {
    const mine = findings.filter((f) => f.bindingId === b.id);
    if (mine.length === 0 && !vhostKinds.has('missing_vhost')) continue;
    const outcome = await attempt(mine[0] ?? findings[0]!, () => repairUser(deps, inst, b, plan, new Set(mine.map((f) => f.kind))));
    for (const f of mine) outcomes.push({ ...outcome, finding: f });
  }
  // Beside a running server an operation may have started on this instance while we repaired it
  // (its first step sets the state or the plan): what we made for a deprovision goes again, and
  // what we re-applied for an update is compared again by the next pass.
  const after = await deps.store.getInstance(inst.id);
  if (!after || after.state === 'deprovisioning') {
    if (vhostKinds.has('missing_vhost')) await deps.rabbit.deleteVhost(inst.vhost).catch(() => undefined);
    return outcomes.map((o) => ({ ...o, repaired: false, error: 'the instance is being deleted; left to the deprovision' }));
  }
  if (after.updatedAt !== inst.updatedAt || after.planId !== inst.planId) {
    return outcomes.map((o) => ({ ...o, repaired: false, error: 'the instance changed during the repair; the next pass compares it again' }));
  }
  for (const f of outcomes) {
    if (f.repaired) deps.log.warn({ reconcile: 'repaired', kind: f.finding.kind, instance_id: inst.id, vhost: f.finding.vhost, username: f.finding.username }, 'reconcile repaired drift');
  }
  return outcomes;
}

async function removeUnplannedVhostLimits(deps: ReconcileDeps, vhost: string, plan: PlanRabbitConfig): Promise<void> {
  if (plan.vhost_limits.max_connections === undefined) await deps.rabbit.deleteVhostLimit(vhost, 'max-connections');
  if (plan.vhost_limits.max_queues === undefined) await deps.rabbit.deleteVhostLimit(vhost, 'max-queues');
}

async function repairUser(deps: ReconcileDeps, inst: InstanceRecord, b: BindingRecord, plan: PlanRabbitConfig, kinds: Set<string>): Promise<void> {
  if (kinds.has('topic_permissions')) await deps.rabbit.deleteTopicPermissions(inst.vhost, b.username);
  if (kinds.has('user_limits')) {
    if (plan.user_limits.max_connections === undefined) await deps.rabbit.deleteUserLimit(b.username, 'max-connections');
    if (plan.user_limits.max_channels === undefined) await deps.rabbit.deleteUserLimit(b.username, 'max-channels');
  }
  if (kinds.has('permissions')) {
    // Permissions on any other vhost were never the plan's.
    for (const p of await deps.rabbit.listUserPermissions(b.username)) {
      if (p.vhost !== inst.vhost) await deps.rabbit.deletePermissions(p.vhost, b.username);
    }
  }
  const full = await deps.store.getBinding(b.id);
  const password = full?.credentials?.password;
  if (typeof password === 'string') {
    // The stored password: the credentials the app holds work again.
    await applyUserPlan(deps.rabbit, inst.vhost, { username: b.username, password, deploymentId: deps.deploymentId }, plan);
    // An unbind may have begun meanwhile (it marks the binding first): its credentials must not
    // come back to life, so the user made again goes again.
    const now = await deps.store.getBinding(b.id, { withCredentials: false });
    if (now?.state !== 'ready') {
      await deps.rabbit.deleteUser(b.username);
      throw new Error(`binding ${b.id} is being deleted; its user was not kept`);
    }
    return;
  }
  // Adopted without credentials: the user's password stays whatever it is (its hash is kept).
  const hash = await deps.rabbit.getUserHash(b.username);
  if (!hash) throw new Error(`user ${b.username} is missing and warren has no password for it (adopted binding); unbind and bind again`);
  await deps.rabbit.putUserHash(b.username, { ...hash, tags: bindingUserTags(plan, deps.deploymentId) });
  await deps.rabbit.putPermissions(inst.vhost, b.username, plan.permissions);
  await applyTopicPermissions(deps.rabbit, inst.vhost, b.username, plan);
  await applyUserLimits(deps.rabbit, b.username, plan);
}
