// ManagementClient: the RabbitManagement interface over RabbitMQ's management HTTP API.
// Every call goes through RequestFunnel (request-funnel.ts), which owns sockets and bodies.
// Methods are async so that invalid names reject (instead of throwing synchronously).
import type {
  ConnectionRef,
  Created,
  Overview,
  Permissions,
  Policy,
  RabbitManagement,
  TopicPermissions,
  UserHash,
  UserInfo,
  UserLimit,
  UserListing,
  VhostInfo,
  VhostLimit,
} from './management-api.ts';
import type { NodeHealthView } from './node-health.ts';
import { parseNodes, resolveOptions, type ManagementClientOptions } from './options.ts';
import { headerSafe, seg } from './paths.ts';
import { RequestFunnel, type ClientStats, type FunnelResponse } from './request-funnel.ts';
import * as shape from './response-shapes.ts';

// Accepted statuses, allocated once.
const OK_200 = [200] as const;
const OK_200_404 = [200, 404] as const;
const OK_PUT = [201, 204] as const;
const OK_DELETE = [204, 404] as const;
const OK_VOID = [200, 201, 204] as const;
// Limit deletes are idempotent in 3.10 (204 when absent); later versions may say 404.
const OK_VOID_404 = [200, 204, 404] as const;
// Deletion protection (4.1+); before 4.1 the path does not exist (404, or 405 behind some proxies).
const OK_PROTECTION = [200, 201, 204, 404, 405] as const;

const created = (r: FunnelResponse): Created => (r.status === 201 ? 'created' : 'existed');
const found = (r: FunnelResponse): boolean => r.status !== 404;
const supported = (r: FunnelResponse): boolean => r.status !== 404 && r.status !== 405;
const nothing = (): void => undefined;

export class ManagementClient implements RabbitManagement {
  private readonly funnel: RequestFunnel;

  constructor(opts: ManagementClientOptions) {
    const nodes = parseNodes(opts);
    this.funnel = new RequestFunnel(nodes, resolveOptions(opts), opts);
  }

  async overview(): Promise<Overview> {
    return this.get('/api/overview', '/api/overview', shape.overview);
  }

  // --- vhosts ---

  async getVhost(vhost: string): Promise<VhostInfo | null> {
    return this.getOr(`/api/vhosts/${seg(vhost, 'vhost')}`, '/api/vhosts/{}', null, shape.vhost);
  }

  async listVhosts(): Promise<VhostInfo[]> {
    // A vhost being deleted at that moment can be listed without its name (seen on 3.10): skipped.
    return this.get('/api/vhosts?columns=name,description,tags', '/api/vhosts', (v) => shape.namedEntries(v, 'vhosts', shape.vhost));
  }

  async putVhost(vhost: string, opts?: { description?: string; tags?: string[]; defaultQueueType?: string }): Promise<Created> {
    const path = `/api/vhosts/${seg(vhost, 'vhost')}`;
    const body: Record<string, string> = {};
    if (opts?.description !== undefined) body.description = opts.description;
    // A comma-joined string is what every version (3.8 .. 4.x) accepts.
    if (opts?.tags !== undefined) body.tags = opts.tags.join(',');
    if (opts?.defaultQueueType !== undefined) body.default_queue_type = opts.defaultQueueType;
    return this.funnel.request(
      { method: 'PUT', path, template: '/api/vhosts/{}', body: JSON.stringify(body), ok: OK_PUT, read: 'dump' },
      created,
    );
  }

  async deleteVhost(vhost: string): Promise<boolean> {
    const path = `/api/vhosts/${seg(vhost, 'vhost')}`;
    return this.funnel.request({ method: 'DELETE', path, template: '/api/vhosts/{}', ok: OK_DELETE, read: 'dump' }, found);
  }

  async protectVhostFromDeletion(vhost: string): Promise<boolean> {
    const path = `/api/vhosts/${seg(vhost, 'vhost')}/deletion/protection`;
    return this.funnel.request(
      { method: 'POST', path, template: '/api/vhosts/{}/deletion/protection', body: '{}', ok: OK_PROTECTION, read: 'dump' },
      supported,
    );
  }

  async unprotectVhostFromDeletion(vhost: string): Promise<boolean> {
    const path = `/api/vhosts/${seg(vhost, 'vhost')}/deletion/protection`;
    return this.funnel.request(
      { method: 'DELETE', path, template: '/api/vhosts/{}/deletion/protection', ok: OK_PROTECTION, read: 'dump' },
      supported,
    );
  }

  // --- users ---

  async getUser(user: string): Promise<UserInfo | null> {
    return this.getOr(`/api/users/${seg(user, 'user')}`, '/api/users/{}', null, shape.user);
  }

  async listUsers(): Promise<UserListing[]> {
    const path = '/api/users?columns=name,tags,password_hash,hashing_algorithm';
    return this.get(path, '/api/users', (v) => shape.namedEntries(v, 'users', shape.userListing));
  }

  async getUserHash(user: string): Promise<UserHash | null> {
    return this.getOr(`/api/users/${seg(user, 'user')}`, '/api/users/{}', null, shape.userHash);
  }

  async putUserHash(user: string, hash: UserHash): Promise<Created> {
    const path = `/api/users/${seg(user, 'user')}`;
    const body = JSON.stringify({ password_hash: hash.passwordHash, hashing_algorithm: hash.hashingAlgorithm, tags: hash.tags.join(',') });
    return this.funnel.request({ method: 'PUT', path, template: '/api/users/{}', body, ok: OK_PUT, read: 'dump' }, created);
  }

  async putUser(user: string, opts: { password: string; tags?: string[] }): Promise<Created> {
    const path = `/api/users/${seg(user, 'user')}`;
    // 3.10 rejects a user without "tags" (400 tags_not_present). The body holds the password:
    // the funnel never logs or copies request bodies.
    const body = JSON.stringify({ password: opts.password, tags: opts.tags ? opts.tags.join(',') : '' });
    return this.funnel.request({ method: 'PUT', path, template: '/api/users/{}', body, ok: OK_PUT, read: 'dump' }, created);
  }

  async deleteUser(user: string): Promise<boolean> {
    const path = `/api/users/${seg(user, 'user')}`;
    return this.funnel.request({ method: 'DELETE', path, template: '/api/users/{}', ok: OK_DELETE, read: 'dump' }, found);
  }

  // --- permissions ---

  async putPermissions(vhost: string, user: string, perms: Permissions): Promise<Created> {
    const path = `/api/permissions/${seg(vhost, 'vhost')}/${seg(user, 'user')}`;
    const body = JSON.stringify({ configure: perms.configure, write: perms.write, read: perms.read });
    return this.funnel.request({ method: 'PUT', path, template: '/api/permissions/{}/{}', body, ok: OK_PUT, read: 'dump' }, created);
  }

  async deletePermissions(vhost: string, user: string): Promise<boolean> {
    const path = `/api/permissions/${seg(vhost, 'vhost')}/${seg(user, 'user')}`;
    return this.funnel.request({ method: 'DELETE', path, template: '/api/permissions/{}/{}', ok: OK_DELETE, read: 'dump' }, found);
  }

  async putTopicPermissions(vhost: string, user: string, perms: TopicPermissions): Promise<Created> {
    const path = `/api/topic-permissions/${seg(vhost, 'vhost')}/${seg(user, 'user')}`;
    const body = JSON.stringify({ exchange: perms.exchange, write: perms.write, read: perms.read });
    return this.funnel.request(
      { method: 'PUT', path, template: '/api/topic-permissions/{}/{}', body, ok: OK_PUT, read: 'dump' },
      created,
    );
  }

  /** Removes every topic permission of the user on the vhost; false when there were none (404). */
  async deleteTopicPermissions(vhost: string, user: string): Promise<boolean> {
    const path = `/api/topic-permissions/${seg(vhost, 'vhost')}/${seg(user, 'user')}`;
    return this.funnel.request({ method: 'DELETE', path, template: '/api/topic-permissions/{}/{}', ok: OK_DELETE, read: 'dump' }, found);
  }

  async listUserPermissions(user: string): Promise<Array<{ vhost: string } & Permissions>> {
    return this.getOr(`/api/users/${seg(user, 'user')}/permissions`, '/api/users/{}/permissions', [], shape.allPermissions);
  }

  /** Throws ManagementError 404 when the vhost does not exist. */
  async listVhostPermissions(vhost: string): Promise<Array<{ user: string } & Permissions>> {
    return this.get(`/api/vhosts/${seg(vhost, 'vhost')}/permissions`, '/api/vhosts/{}/permissions', shape.permissions);
  }

  // --- limits ---

  async putVhostLimit(vhost: string, name: VhostLimit, value: number): Promise<void> {
    const path = `/api/vhost-limits/${seg(vhost, 'vhost')}/${seg(name, 'limit')}`;
    const body = JSON.stringify({ value });
    return this.funnel.request({ method: 'PUT', path, template: '/api/vhost-limits/{}/{}', body, ok: OK_VOID, read: 'dump' }, nothing);
  }

  /** 3.10 answers 500 (empty body) when the vhost itself is missing: that throws ManagementError 500. */
  async deleteVhostLimit(vhost: string, name: VhostLimit): Promise<void> {
    const path = `/api/vhost-limits/${seg(vhost, 'vhost')}/${seg(name, 'limit')}`;
    return this.funnel.request({ method: 'DELETE', path, template: '/api/vhost-limits/{}/{}', ok: OK_VOID_404, read: 'dump' }, nothing);
  }

  async putUserLimit(user: string, name: UserLimit, value: number): Promise<void> {
    const path = `/api/user-limits/${seg(user, 'user')}/${seg(name, 'limit')}`;
    const body = JSON.stringify({ value });
    return this.funnel.request({ method: 'PUT', path, template: '/api/user-limits/{}/{}', body, ok: OK_VOID, read: 'dump' }, nothing);
  }

  async deleteUserLimit(user: string, name: UserLimit): Promise<void> {
    const path = `/api/user-limits/${seg(user, 'user')}/${seg(name, 'limit')}`;
    return this.funnel.request({ method: 'DELETE', path, template: '/api/user-limits/{}/{}', ok: OK_VOID_404, read: 'dump' }, nothing);
  }

  // --- cluster-wide listings (reconcile) ---

  async listAllPermissions(): Promise<Array<{ user: string; vhost: string } & Permissions>> {
    return this.list('/api/permissions', shape.allPermissions);
  }

  async listAllTopicPermissions(): Promise<Array<{ user: string; vhost: string } & TopicPermissions>> {
    return this.list('/api/topic-permissions', shape.allTopicPermissions);
  }

  async listAllVhostLimits(): Promise<Map<string, Record<string, number>>> {
    return this.list('/api/vhost-limits', (v) => shape.allLimits(v, 'vhost'));
  }

  async listAllUserLimits(): Promise<Map<string, Record<string, number>>> {
    return this.list('/api/user-limits', (v) => shape.allLimits(v, 'user'));
  }

  async listAllPolicies(): Promise<Array<{ vhost: string; name: string } & Policy>> {
    return this.list('/api/policies', shape.allPolicies);
  }

  async listAllOperatorPolicies(): Promise<Array<{ vhost: string; name: string } & Policy>> {
    return this.list('/api/operator-policies', shape.allPolicies);
  }

  /** A GET of a fixed path (its own template). */
  private async list<T>(path: string, parse: (json: unknown) => T): Promise<T> {
    return this.get(path, path, parse);
  }

  /** A GET whose JSON answer `parse` reads; any status but 200 throws (ManagementError for 404). */
  private async get<T>(path: string, template: string, parse: (json: unknown) => T): Promise<T> {
    return this.funnel.request({ method: 'GET', path, template, ok: OK_200, read: 'json' }, (r) => parse(r.json));
  }

  /** The same where 404 means there is none: `absent` then. */
  private async getOr<T, A>(path: string, template: string, absent: A, parse: (json: unknown) => T): Promise<T | A> {
    return this.funnel.request({ method: 'GET', path, template, ok: OK_200_404, read: 'json' }, (r) =>
      r.status === 404 ? absent : parse(r.json),
    );
  }

  // --- policies ---

  async putPolicy(vhost: string, name: string, policy: Policy): Promise<Created> {
    return this.putAnyPolicy('policies', vhost, name, policy);
  }

  async deletePolicy(vhost: string, name: string): Promise<boolean> {
    return this.deleteAnyPolicy('policies', vhost, name);
  }

  /** Throws ManagementError 404 when the vhost does not exist. */
  async listPolicies(vhost: string): Promise<Array<{ name: string } & Policy>> {
    return this.listAnyPolicies('policies', vhost);
  }

  async putOperatorPolicy(vhost: string, name: string, policy: Policy): Promise<Created> {
    return this.putAnyPolicy('operator-policies', vhost, name, policy);
  }

  async deleteOperatorPolicy(vhost: string, name: string): Promise<boolean> {
    return this.deleteAnyPolicy('operator-policies', vhost, name);
  }

  /** Throws ManagementError 404 when the vhost does not exist. */
  async listOperatorPolicies(vhost: string): Promise<Array<{ name: string } & Policy>> {
    return this.listAnyPolicies('operator-policies', vhost);
  }

  private async putAnyPolicy(kind: PolicyKind, vhost: string, name: string, policy: Policy): Promise<Created> {
    const path = `/api/${kind}/${seg(vhost, 'vhost')}/${seg(name, 'policy')}`;
    const b: Record<string, unknown> = { pattern: policy.pattern, definition: policy.definition };
    if (policy.priority !== undefined) b.priority = policy.priority;
    if (policy['apply-to'] !== undefined) b['apply-to'] = policy['apply-to'];
    return this.funnel.request(
      { method: 'PUT', path, template: `/api/${kind}/{}/{}`, body: JSON.stringify(b), ok: OK_PUT, read: 'dump' },
      created,
    );
  }

  private async deleteAnyPolicy(kind: PolicyKind, vhost: string, name: string): Promise<boolean> {
    const path = `/api/${kind}/${seg(vhost, 'vhost')}/${seg(name, 'policy')}`;
    return this.funnel.request({ method: 'DELETE', path, template: `/api/${kind}/{}/{}`, ok: OK_DELETE, read: 'dump' }, found);
  }

  private async listAnyPolicies(kind: PolicyKind, vhost: string): Promise<Array<{ name: string } & Policy>> {
    return this.get(`/api/${kind}/${seg(vhost, 'vhost')}`, `/api/${kind}/{}`, shape.policies);
  }

  // --- connections ---

  async listUserConnections(user: string): Promise<ConnectionRef[]> {
    return this.get(`/api/connections/username/${seg(user, 'user')}`, '/api/connections/username/{}', shape.connections);
  }

  async connectionInStatistics(name: string): Promise<{ user: string } | null> {
    return this.getOr(`/api/connections/${seg(name, 'connection')}`, '/api/connections/{}', null, shape.connectionOwner);
  }

  async closeUserConnections(user: string, reason?: string): Promise<void> {
    const path = `/api/connections/username/${seg(user, 'user')}`;
    return this.funnel.request(
      {
        method: 'DELETE',
        path,
        template: '/api/connections/username/{}',
        ok: OK_VOID_404,
        read: 'dump',
        ...(reason !== undefined ? { headers: { 'x-reason': headerSafe(reason) } } : {}),
      },
      nothing,
    );
  }

  // --- observability and lifecycle ---

  /** Per-node pool state and call counters (no credentials anywhere). */
  stats(): ClientStats {
    return this.funnel.stats();
  }

  /** Per-node health (up, suspect, down, unknown) from call outcomes and probes; never calls RabbitMQ. */
  nodeHealth(): NodeHealthView[] {
    return this.funnel.nodeHealth();
  }

  /** Probes every node now and keeps their state fresh in the background until close(). */
  startProbing(): void {
    this.funnel.startProbing();
  }

  /** Refuses new calls, waits for in-flight ones (bounded by closeTimeoutMs), then closes sockets. */
  close(): Promise<void> {
    return this.funnel.close();
  }
}

type PolicyKind = 'policies' | 'operator-policies';

export function createManagementClient(opts: ManagementClientOptions): ManagementClient {
  return new ManagementClient(opts);
}
