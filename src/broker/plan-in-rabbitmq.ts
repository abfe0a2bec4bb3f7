// What a plan means in RabbitMQ: vhost limits and policies for an instance, permissions, topic
// permissions, tags and limits for a binding's user. Applying is idempotent (PUT), so a retry
// or an update re-applies the whole plan; `previous` lets an update remove what the old plan
// set and the new one does not.
import type { PlanRabbitConfig, PolicyConfig } from '../config/config-types.ts';
import type { Policy, RabbitManagement, UserLimit, VhostLimit } from '../rabbitmq/management-api.ts';

const VHOST_LIMITS: Array<[keyof PlanRabbitConfig['vhost_limits'], VhostLimit]> = [
  ['max_connections', 'max-connections'],
  ['max_queues', 'max-queues'],
];
const USER_LIMITS: Array<[keyof PlanRabbitConfig['user_limits'], UserLimit]> = [
  ['max_connections', 'max-connections'],
  ['max_channels', 'max-channels'],
];

/**
 * Description put on every vhost warren creates: how it recognizes its own, and which warren
 * deployment made it (two platforms' warrens may share one cluster).
 */
export const vhostMarker = (instanceId: string, deploymentId: string) => `warren service instance ${instanceId} (deployment ${deploymentId})`;

/** Marker of vhosts made before deployment ids existed: ours only where the store has a record of them. */
const legacyVhostMarker = (instanceId: string) => `warren service instance ${instanceId}`;

const MARKER = /^warren service instance (\S+?)(?: \(deployment ([^\s()]+)\))?$/;

/** What a vhost's description says about its maker: null when it is not warren's marker at all. */
export function parseVhostMarker(description: string | undefined): { instanceId: string; deploymentId: string | null } | null {
  const m = description === undefined ? null : MARKER.exec(description);
  return m ? { instanceId: m[1]!, deploymentId: m[2] ?? null } : null;
}

/**
 * Is this vhost the one this deployment made for the instance? The current marker with our id,
 * or the older marker without an id (callers hold the instance's store record, which is the
 * proof for those).
 */
export function ownsVhost(description: string | undefined, instanceId: string, deploymentId: string): boolean {
  return description === vhostMarker(instanceId, deploymentId) || description === legacyVhostMarker(instanceId);
}

/** The user tag naming the deployment that made a binding user. It grants nothing (measured on 3.10). */
export const DEPLOYMENT_TAG_PREFIX = 'warren-deployment:';
export const deploymentTag = (deploymentId: string) => `${DEPLOYMENT_TAG_PREFIX}${deploymentId}`;

/** The deployment id a user's tags name, or null (made by someone else, or by warren before ids). */
export function deploymentOfUser(tags: readonly string[]): string | null {
  const tag = tags.find((t) => t.startsWith(DEPLOYMENT_TAG_PREFIX));
  return tag === undefined ? null : tag.slice(DEPLOYMENT_TAG_PREFIX.length);
}

/** Every tag a binding user of this plan carries: the plan's, then the deployment's. */
export const bindingUserTags = (plan: PlanRabbitConfig, deploymentId: string): string[] => [...plan.user_tags, deploymentTag(deploymentId)];

export const toPolicy = (p: PolicyConfig): Policy => ({ pattern: p.pattern, definition: p.definition, priority: p.priority, 'apply-to': p.apply_to });

export async function applyVhostPlan(
  rabbit: RabbitManagement,
  vhost: string,
  plan: PlanRabbitConfig,
  previous?: PlanRabbitConfig,
): Promise<void> {
  const calls: Array<Promise<unknown>> = [applyVhostLimits(rabbit, vhost, plan, previous)];
  for (const p of plan.policies) calls.push(rabbit.putPolicy(vhost, p.name, toPolicy(p)));
  for (const p of plan.operator_policies) calls.push(rabbit.putOperatorPolicy(vhost, p.name, toPolicy(p)));
  if (previous) {
    const keep = new Set(plan.policies.map((p) => p.name));
    for (const p of previous.policies) if (!keep.has(p.name)) calls.push(rabbit.deletePolicy(vhost, p.name));
    const keepOp = new Set(plan.operator_policies.map((p) => p.name));
    for (const p of previous.operator_policies) if (!keepOp.has(p.name)) calls.push(rabbit.deleteOperatorPolicy(vhost, p.name));
  }
  await settleAll(calls);
}

/** Creates or re-applies a binding's user. The user must be warren's own (see generated-secrets.ts). */
export async function applyUserPlan(
  rabbit: RabbitManagement,
  vhost: string,
  user: { username: string; password: string; deploymentId: string },
  plan: PlanRabbitConfig,
  previous?: PlanRabbitConfig,
): Promise<void> {
  await rabbit.putUser(user.username, { password: user.password, tags: bindingUserTags(plan, user.deploymentId) });
  const calls: Array<Promise<unknown>> = [rabbit.putPermissions(vhost, user.username, plan.permissions), applyTopicPermissions(rabbit, vhost, user.username, plan, previous)];
  calls.push(applyUserLimits(rabbit, user.username, plan, previous));
  await settleAll(calls);
}

/**
 * One after the other: RabbitMQ keeps a vhost's limits in one value that each PUT/DELETE reads
 * and rewrites, so two concurrent changes lose one of them.
 */
export async function applyVhostLimits(rabbit: RabbitManagement, vhost: string, plan: PlanRabbitConfig, previous?: PlanRabbitConfig): Promise<void> {
  for (const [key, name] of VHOST_LIMITS) {
    const value = plan.vhost_limits[key];
    if (value !== undefined) await rabbit.putVhostLimit(vhost, name, value);
    else if (previous?.vhost_limits[key] !== undefined) await rabbit.deleteVhostLimit(vhost, name);
  }
}

/** Topic permissions are one entry per exchange: an update first clears the old plan's. */
export async function applyTopicPermissions(rabbit: RabbitManagement, vhost: string, username: string, plan: PlanRabbitConfig, previous?: PlanRabbitConfig): Promise<void> {
  if (previous && previous.topic_permissions.length > 0) await rabbit.deleteTopicPermissions(vhost, username);
  await settleAll(plan.topic_permissions.map((t) => rabbit.putTopicPermissions(vhost, username, t)));
}

/** User limits share one stored value per user, like vhost limits: change them in sequence. */
export async function applyUserLimits(rabbit: RabbitManagement, username: string, plan: PlanRabbitConfig, previous?: PlanRabbitConfig): Promise<void> {
  for (const [key, name] of USER_LIMITS) {
    const value = plan.user_limits[key];
    if (value !== undefined) await rabbit.putUserLimit(username, name, value);
    else if (previous?.user_limits[key] !== undefined) await rabbit.deleteUserLimit(username, name);
  }
}

/** Waits for every call (none is left running behind our back), then throws the first failure. */
async function settleAll(calls: Array<Promise<unknown>>): Promise<void> {
  if (calls.length === 1) {
    await calls[0];
    return;
  }
  const results = await Promise.allSettled(calls);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
