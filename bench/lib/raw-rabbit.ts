// The raw side of each comparison: the minimal management API calls that do the same work as
// warren's operation, with the same request bodies warren sends (taken from the same catalog),
// through the same kind of client (lib/http.ts). This is the ceiling warren is measured against.
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/load-config.ts';
import type { PlanRabbitConfig } from '../../src/config/config-types.ts';
import { HttpTarget, basic } from './http.ts';
import { listedNames } from '../../testkit/listed-names.ts';

const enc = encodeURIComponent;
const OK_PUT = [201, 204] as const;
const OK_DELETE = [204] as const;
/** The X-Reason warren sends when it closes a binding's connections (same header, same work). */
const REASON = 'binding deleted by the service broker';

export interface RawPlan {
  userTags: string;
  permissions: string;
  vhostLimits: Array<[string, string]>;
  operatorPolicies: Array<[string, string]>;
  policies: Array<[string, string]>;
}

/** The request bodies warren derives from a plan of the default catalog. */
export function rawPlan(planId: string): RawPlan {
  const config = loadConfig({ env: {} });
  const plan = config.catalog.services.flatMap((s) => s.plans).find((p) => p.id === planId);
  if (!plan) throw new Error(`plan ${planId} is not in the default catalog`);
  const r: PlanRabbitConfig = plan.rabbitmq;
  const policyBody = (p: PlanRabbitConfig['policies'][number]) =>
    JSON.stringify({ pattern: p.pattern, definition: p.definition, priority: p.priority, 'apply-to': p.apply_to });
  const limits: Array<[string, string]> = [];
  if (r.vhost_limits.max_connections !== undefined) limits.push(['max-connections', JSON.stringify({ value: r.vhost_limits.max_connections })]);
  if (r.vhost_limits.max_queues !== undefined) limits.push(['max-queues', JSON.stringify({ value: r.vhost_limits.max_queues })]);
  if (Object.values(r.user_limits).some((v) => v !== undefined) || r.topic_permissions.length > 0) {
    throw new Error(`plan ${plan.name} has user limits or topic permissions; the raw bind does not model them (use "standard")`);
  }
  return {
    userTags: (r.user_tags ?? []).join(','),
    permissions: JSON.stringify({ configure: r.permissions.configure, write: r.permissions.write, read: r.permissions.read }),
    vhostLimits: limits,
    operatorPolicies: r.operator_policies.map((p) => [p.name, policyBody(p)]),
    policies: r.policies.map((p) => [p.name, policyBody(p)]),
  };
}

export class RawRabbit {
  readonly http: HttpTarget;
  readonly adminUser: string;
  readonly authorization: string;

  constructor(managementUrl: string, user: string, password: string, readonly plan: RawPlan) {
    this.authorization = basic(user, password);
    this.http = new HttpTarget(new URL(managementUrl).origin, { authorization: this.authorization, 'content-type': 'application/json' });
    this.adminUser = user;
  }

  /** bind = PUT user + PUT permissions. */
  async putUser(user: string): Promise<void> {
    const body = JSON.stringify({ password: randomBytes(24).toString('base64url'), tags: this.plan.userTags });
    await this.http.expect(OK_PUT, 'PUT', `/api/users/${enc(user)}`, body);
  }

  async putPermissions(vhost: string, user: string, body = this.plan.permissions): Promise<void> {
    await this.http.expect(OK_PUT, 'PUT', `/api/permissions/${enc(vhost)}/${enc(user)}`, body);
  }

  /** unbind = DELETE user + DELETE /api/connections/username/{user}. */
  async deleteUser(user: string): Promise<void> {
    await this.http.expect(OK_DELETE, 'DELETE', `/api/users/${enc(user)}`);
  }

  async closeConnections(user: string): Promise<void> {
    await this.http.expect(OK_DELETE, 'DELETE', `/api/connections/username/${enc(user)}`, undefined, { 'x-reason': REASON });
  }

  /** What warren adds to an unbind: GET /api/connections/username/{user}, expecting none. */
  async listConnections(user: string): Promise<void> {
    const a = await this.http.expect([200], 'GET', `/api/connections/username/${enc(user)}`);
    if ((JSON.parse(a.text) as unknown[]).length !== 0) throw new Error(`user ${user} still has connections`);
  }

  /**
   * provision = PUT vhost, PUT the administrator's permissions, then (concurrently, as warren
   * does) the plan's vhost limits and (operator) policies.
   */
  async provision(vhost: string, description: string): Promise<void> {
    await this.http.expect([201], 'PUT', `/api/vhosts/${enc(vhost)}`, JSON.stringify({ description, tags: 'warren' }));
    await this.putPermissions(vhost, this.adminUser, JSON.stringify({ configure: '.*', write: '.*', read: '.*' }));
    const calls: Array<Promise<unknown>> = [];
    for (const [name, body] of this.plan.vhostLimits) calls.push(this.http.expect([200, 201, 204], 'PUT', `/api/vhost-limits/${enc(vhost)}/${name}`, body));
    for (const [name, body] of this.plan.policies) calls.push(this.http.expect(OK_PUT, 'PUT', `/api/policies/${enc(vhost)}/${enc(name)}`, body));
    for (const [name, body] of this.plan.operatorPolicies) calls.push(this.http.expect(OK_PUT, 'PUT', `/api/operator-policies/${enc(vhost)}/${enc(name)}`, body));
    const results = await Promise.allSettled(calls);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** deprovision = DELETE vhost. */
  async deleteVhost(vhost: string): Promise<void> {
    await this.http.expect(OK_DELETE, 'DELETE', `/api/vhosts/${enc(vhost)}`);
  }

  async version(): Promise<{ rabbitmq: string; erlang: string; management: string }> {
    const a = await this.http.expect([200], 'GET', '/api/overview');
    const o = JSON.parse(a.text) as { rabbitmq_version?: string; erlang_version?: string; management_version?: string };
    return { rabbitmq: o.rabbitmq_version ?? '?', erlang: o.erlang_version ?? '?', management: o.management_version ?? '?' };
  }

  /**
   * Deletes every user and vhost whose name starts with `prefix` (the run's own names only).
   * Two list calls at the end of a run; never used while measuring.
   */
  async sweep(prefix: string): Promise<{ users: number; vhosts: number; failures: string[] }> {
    const failures: string[] = [];
    const names = async (path: string): Promise<string[]> => {
      const a = await this.http.expect([200], 'GET', path);
      return listedNames(JSON.parse(a.text), prefix);
    };
    const users = await names('/api/users?columns=name');
    for (const u of users) {
      const a = await this.http.call('DELETE', `/api/users/${enc(u)}`);
      if (a.status !== 204 && a.status !== 404) failures.push(`user ${u}: ${a.status}`);
    }
    const vhosts = await names('/api/vhosts?columns=name');
    for (const v of vhosts) {
      const a = await this.http.call('DELETE', `/api/vhosts/${enc(v)}`);
      if (a.status !== 204 && a.status !== 404) failures.push(`vhost ${v}: ${a.status}`);
    }
    return { users: users.length, vhosts: vhosts.length, failures };
  }

  /** How many users and vhosts with the prefix remain (to prove the cleanup). */
  async leftovers(prefix: string): Promise<number> {
    let n = 0;
    for (const path of ['/api/users?columns=name', '/api/vhosts?columns=name']) {
      const a = await this.http.expect([200], 'GET', path);
      n += (JSON.parse(a.text) as Array<{ name: string }>).filter((x) => x.name.startsWith(prefix)).length;
    }
    return n;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
