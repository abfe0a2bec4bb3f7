// Bind, unbind, fetch and poll of service bindings. A binding is a RabbitMQ user of its own with
// the plan's permissions on the instance's vhost only. Bind and unbind are durable operations
// (durable-operation.ts): serialized per binding across replicas, sharing the instance with
// other binding operations but never overlapping an operation on the instance itself.
import { BrokerError, badRequest, concurrencyError, conflict, gone, notFound } from '../contract/broker-errors.ts';
import type {
  BindDetails, BindResult, BindingView, DeprovisionDetails, FetchDetails, LastOperation, PollDetails, RequestContext, UnbindResult,
} from '../contract/service-broker.ts';
import type { BindingRecord, InstanceRecord } from '../store/store.ts';
import { bindingCredentials } from './binding-credentials.ts';
import { lateLookAt, removeBindingUser } from './binding-user-removal.ts';
import { audit, type BrokerDeps, now } from './broker-deps.ts';
import { beginOperation, type DurableOperation } from './durable-operation.ts';
import { inDoubtLookAt } from './in-doubt-checks.ts';
import { newPassword, newUsername } from './generated-secrets.ts';
import { applyUserPlan, deploymentOfUser } from './plan-in-rabbitmq.ts';
import { requirePlan } from './plan-checks.ts';
import { runOperation } from './run-operation.ts';
import { sameOptionalObject } from './same-json.ts';
import { toBrokerError } from './rabbit-failure.ts';

function sameBind(rec: BindingRecord, d: BindDetails, instanceId: string): boolean {
  return (
    rec.instanceId === instanceId &&
    rec.serviceId === d.serviceId &&
    rec.planId === d.planId &&
    (rec.appGuid ?? undefined) === (d.appGuid ?? undefined) &&
    (rec.predecessorBindingId ?? undefined) === (d.predecessorBindingId ?? undefined) &&
    sameOptionalObject(rec.bindResource, d.bindResource) &&
    // A rotation without parameters inherited its predecessor's: that is not a difference.
    ((d.predecessorBindingId && d.parameters === undefined) || sameOptionalObject(rec.parameters, d.parameters))
  );
}

function liveInstance(instance: InstanceRecord | undefined, instanceId: string): InstanceRecord {
  if (!instance || instance.state === 'provisioning' || instance.state === 'failed') throw notFound(`instance ${instanceId} does not exist`);
  if (instance.state === 'deprovisioning') throw concurrencyError(`instance ${instanceId} is being deleted`);
  return instance;
}

/** The answer to a bind of an id that exists, or undefined when the work is still to do. */
function repeatedBind(rec: BindingRecord, d: BindDetails, instanceId: string, bindingId: string): BindResult | undefined {
  if (!sameBind(rec, d, instanceId)) throw conflict(`binding ${bindingId} exists with different attributes`);
  if (rec.state === 'ready' && rec.credentials) return { alreadyExists: true, credentials: rec.credentials };
  // Adopted from the Go broker (warren reconcile --adopt): the app holds a password warren never
  // knew. Redoing the bind would replace it, so a repeat is refused instead.
  if (rec.state === 'ready') throw conflict(`binding ${bindingId} was adopted without its credentials; create a new binding to get credentials from warren`);
  if (rec.state === 'deleting') throw concurrencyError(`binding ${bindingId} is being deleted`);
  return undefined; // 'creating' or 'failed': an earlier attempt did not finish; its user is ours to redo.
}

export async function bind(deps: BrokerDeps, instanceId: string, bindingId: string, d: BindDetails, ctx: RequestContext): Promise<BindResult> {
  const ref = requirePlan(deps.catalog, d.serviceId, d.planId);
  if (!deps.catalog.bindable(ref)) throw badRequest(`plan "${ref.plan.name}" is not bindable`);
  // The user's name is recorded with the operation before anything is sent: whoever finishes or
  // supersedes it knows which user to look for (a redo of an earlier attempt keeps that one's).
  const planned = newUsername(bindingId);
  // The row goes in with the operation (one write), holding only the password until the user
  // exists; a rotation, which inherits its predecessor's parameters, writes its row after checks.
  const at = now();
  const row: BindingRecord | undefined = d.predecessorBindingId ? undefined : {
    id: bindingId, instanceId, serviceId: d.serviceId, planId: d.planId, appGuid: d.appGuid ?? null, bindResource: d.bindResource ?? null,
    parameters: d.parameters ?? null, context: d.context ?? null, predecessorBindingId: null, username: planned,
    credentials: { password: newPassword() }, state: 'creating', createdAt: at, updatedAt: at,
  };
  let op: DurableOperation;
  try {
    op = await beginOperation(
      deps, { resourceType: 'binding', resourceId: bindingId, instanceId, kind: 'bind', intent: { username: planned } },
      { withCredentials: true, ...(row ? { insertBinding: row } : {}) },
    );
  } catch (err) {
    // Busy with another operation: an identical repeat of a finished bind still gets its credentials.
    const seen = err instanceof BrokerError && err.code === 'ConcurrencyError' ? await deps.store.getBinding(bindingId) : undefined;
    const answer = seen && repeatedBind(seen, d, instanceId, bindingId);
    if (answer) return answer;
    throw err;
  }
  let prepared: { username: string; password: string; vhost: string; credentials: Record<string, unknown> } | { answer: BindResult };
  try {
    prepared = await prepareBind(deps, op, planned, instanceId, bindingId, d, ref.plan.binding_rotatable === true, ref.plan.name);
  } catch (err) {
    if (op.rows.binding?.username === planned) await deps.store.deleteBinding(bindingId).catch(() => undefined);
    await op.discard().catch(() => undefined);
    throw toBrokerError(err, 'binding failed');
  }
  if ('answer' in prepared) {
    await op.discard();
    return prepared.answer;
  }
  const { username, password, vhost, credentials } = prepared;
  // Bindings answer synchronously: a user is created in milliseconds, and credentials come with the answer.
  await runOperation(deps, op, { ...ctx, acceptsIncomplete: false }, {
    failure: 'binding failed',
    forward: () => applyUserPlan(deps.rabbit, vhost, { username, password, deploymentId: deps.deploymentId }, ref.plan.rabbitmq),
    effect: { bindingId, state: 'ready', credentials },
    // A PUT of this user whose answer was lost may still land, after an unbind even: look then.
    followup: (writesInDoubt) => (writesInDoubt ? { at: inDoubtLookAt(deps) } : null),
    rollback: () => unbuildBinding(deps, bindingId, username),
    followupAfterRollback: () => inDoubtLookAt(deps),
  });
  audit(deps, ctx, 'bound', { instance_id: instanceId, binding_id: bindingId, username, app_guid: d.appGuid });
  return { alreadyExists: false, credentials };
}

/**
 * Under the operation, on the rows its begin read: checks, then the row before the user exists
 * (begin inserted it already unless it is a rotation's). The row begin inserted reads as a
 * redo of an unfinished bind: same attributes, its user, its password.
 */
async function prepareBind(
  deps: BrokerDeps, op: DurableOperation, planned: string, instanceId: string, bindingId: string, d: BindDetails, rotatable: boolean, planName: string,
) {
  const { rows } = op;
  const instance = liveInstance(rows.instance, instanceId);
  if (instance.planId !== d.planId) throw badRequest(`plan_id "${d.planId}" is not the plan of instance ${instanceId}`);
  const existing = rows.binding;
  if (existing) {
    const answer = repeatedBind(existing, d, instanceId, bindingId);
    if (answer) return { answer };
  }
  let parameters = d.parameters;
  if (d.predecessorBindingId) {
    if (!rotatable) throw badRequest(`plan "${planName}" does not support binding rotation`);
    const predecessor = await deps.store.getBinding(d.predecessorBindingId);
    if (!predecessor || predecessor.instanceId !== instanceId || predecessor.state !== 'ready') {
      throw badRequest(`predecessor binding ${d.predecessorBindingId} does not exist in instance ${instanceId}`);
    }
    parameters ??= predecessor.parameters ?? undefined;
  }
  const username = existing?.username ?? planned;
  if (username !== planned) await op.setIntent({ username });
  // A redo keeps the stored password: the user is ours, and the store already holds it sealed.
  const stored = existing?.credentials?.['password'];
  const password = typeof stored === 'string' ? stored : newPassword();
  const credentials = bindingCredentials({
    username, password, vhost: instance.vhost, hosts: deps.rabbitSettings.hosts, managementUrls: deps.rabbitSettings.managementPublicUrls,
    ports: deps.protocols.current(), preferTls: deps.rabbitSettings.preferTls,
  });
  // The row exists before the user does, so a crash or a failure leaves a record to clean up.
  if (!existing) {
    const at = now();
    await deps.store.insertBinding({
      id: bindingId, instanceId, serviceId: d.serviceId, planId: d.planId, appGuid: d.appGuid ?? null,
      bindResource: d.bindResource ?? null, parameters: parameters ?? null, context: d.context ?? null,
      predecessorBindingId: d.predecessorBindingId ?? null, username, credentials, state: 'creating', createdAt: at, updatedAt: at,
    });
  } else if (typeof stored !== 'string') {
    await deps.store.updateBinding(bindingId, { credentials, updatedAt: now() });
  }
  return { username, password, vhost: instance.vhost, credentials };
}

/**
 * Undoes a bind: the user (deleting an absent user is fine) and the row. A user of that name
 * whose tags do not name this deployment is not ours (RabbitMQ refused our PUT of it): it stays.
 */
export async function unbuildBinding(deps: BrokerDeps, bindingId: string, username: string): Promise<void> {
  const user = await deps.rabbit.getUser(username);
  if (user && deploymentOfUser(user.tags) === deps.deploymentId) await deps.rabbit.deleteUser(username);
  else if (user) deps.log.warn({ binding_id: bindingId, username }, "rolling back a bind: the user of that name is not this deployment's; left alone");
  await deps.store.deleteBinding(bindingId);
}

/** Finishes an unbind: the user and its connections, then the row. */
export async function teardownBinding(deps: BrokerDeps, bindingId: string, username: string): Promise<void> {
  await removeBindingUser(deps, username);
  await deps.store.deleteBinding(bindingId);
}

export async function unbind(deps: BrokerDeps, instanceId: string, bindingId: string, _d: DeprovisionDetails, ctx: RequestContext): Promise<UnbindResult> {
  // Begin also marks the binding 'deleting': from then on its credentials are revoked (GET answers
  // 404), a repeat bind waits for the delete, an update leaves this user alone, and a failed
  // attempt is finished by a retry (or, if this replica stops, by recovery, from the row).
  const op = await beginOperation(deps, { resourceType: 'binding', resourceId: bindingId, instanceId, kind: 'unbind', intent: null }, { bindingState: 'deleting' });
  const existing = op.rows.binding;
  if (!existing || existing.instanceId !== instanceId) {
    await op.discard().catch(() => undefined);
    throw gone();
  }
  const { username } = existing;
  await runOperation(deps, op, { ...ctx, acceptsIncomplete: false }, {
    failure: 'unbinding failed',
    forward: () => removeBindingUser(deps, username),
    effect: { bindingId, remove: true },
    // The late look at connections always; a look for writes in doubt after it only if one was.
    followup: (writesInDoubt) => ({ at: lateLookAt(), intent: writesInDoubt ? { username, writesInDoubt } : { username } }),
  });
  audit(deps, ctx, 'unbound', { instance_id: instanceId, binding_id: bindingId, username });
  return {};
}

export async function getBinding(deps: BrokerDeps, instanceId: string, bindingId: string, _d: FetchDetails): Promise<BindingView> {
  const rec = await deps.store.getBinding(bindingId);
  if (!rec || rec.instanceId !== instanceId || rec.state !== 'ready' || !rec.credentials) {
    throw notFound(`binding ${bindingId} does not exist in instance ${instanceId}`);
  }
  return { credentials: rec.credentials, parameters: rec.parameters ?? {} };
}

/**
 * Bindings are created and deleted synchronously, so their state is the answer; a deleted
 * binding's recorded unbind answers 'succeeded' on every replica (platforms that poll after a
 * delete treat 410 as an error).
 */
export async function lastBindingOperation(deps: BrokerDeps, instanceId: string, bindingId: string, _d: PollDetails): Promise<LastOperation> {
  const rec = await deps.store.getBinding(bindingId, { withCredentials: false });
  if (rec && rec.instanceId === instanceId) {
    return { state: rec.state === 'ready' ? 'succeeded' : rec.state === 'failed' ? 'failed' : 'in progress' };
  }
  const op = await deps.store.getOperation('binding', bindingId);
  if (op && op.instanceId === instanceId) {
    if (op.kind === 'unbind' && op.state === 'succeeded') return { state: 'succeeded', description: 'binding deleted' };
    return { state: op.state, ...(op.description ? { description: op.description } : {}) };
  }
  throw notFound(`binding ${bindingId} does not exist in instance ${instanceId}`);
}
