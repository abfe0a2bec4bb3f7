// An in-memory RabbitMQ management API for domain unit tests: it implements the broker's port
// (RabbitManagement) with RabbitMQ's semantics where the broker relies on them (PUT creates or
// replaces, DELETE of an absent object is false, deleting a vhost or user takes its permissions,
// limits and connections with it), and lets a test make any call answer what a real RabbitMQ
// only answers in rare moments: an error status with RabbitMQ's error and reason, a lost answer.
import { ManagementError, ManagementUnavailableError, type HttpMethod } from '../../../src/rabbitmq/errors.ts';
import { CallFaults } from './call-faults.ts';
import type {
  ConnectionRef, Created, Overview, Permissions, Policy, RabbitManagement, TopicPermissions, UserHash, UserInfo, UserLimit, UserListing,
  VhostInfo, VhostLimit,
} from '../../../src/rabbitmq/management-api.ts';

export type RabbitCall = keyof RabbitManagement;

const NODE = 'http://fake-rabbitmq:15672';

/** The error the real client throws for a status RabbitMQ answered (errors.ts), with its error and reason. */
export function rabbitAnswered(status: number, error: string, reason: string, method: HttpMethod = 'PUT', path = '/api/fake'): ManagementError {
  return new ManagementError(status, error, reason, { method, path, node: NODE });
}

/** The error the real client throws when no node answered at all. */
export function noNodeAnswered(method: HttpMethod = 'PUT', path = '/api/fake'): ManagementUnavailableError {
  return new ManagementUnavailableError(`no RabbitMQ management node answered ${method} ${path} after 1 attempt(s) [${NODE}]`, { method, path, node: NODE }, 1, [NODE]);
}

interface FakeUser {
  tags: string[];
  password: string | null;
  hash: { passwordHash: string; hashingAlgorithm: string } | null;
}

const key = (vhost: string, user: string) => `${vhost}\u0000${user}`;
const splitKey = (k: string): [string, string] => {
  const at = k.indexOf('\u0000');
  return [k.slice(0, at), k.slice(at + 1)];
};

export class FakeRabbit extends CallFaults<RabbitCall> implements RabbitManagement {
  readonly vhosts = new Map<string, VhostInfo & { protected: boolean }>();
  readonly users = new Map<string, FakeUser>();
  readonly permissions = new Map<string, Permissions>();
  readonly topicPermissions = new Map<string, TopicPermissions[]>();
  readonly vhostLimits = new Map<string, Record<string, number>>();
  readonly userLimits = new Map<string, Record<string, number>>();
  readonly policies = new Map<string, Map<string, Policy>>();
  readonly operatorPolicies = new Map<string, Map<string, Policy>>();
  /** Connections tracking lists, by user. */
  readonly connections = new Map<string, ConnectionRef[]>();
  /** Users whose connections tracking keeps listing after they were deleted or closed (its lag). */
  readonly trackingLag = new Set<string>();
  /** Users whose listed connections are stale tracking entries: statistics do not know them. */
  readonly ghosts = new Set<string>();
  private connectionsMade = 0;
  /** management.disable_stats: statistics know no connection at all. */
  statsDisabled = false;

  /** Starts as a fresh RabbitMQ does: the administrator warren logs in with, and nothing else. */
  constructor(
    readonly version = '3.13.7',
    adminUser = 'guest',
  ) {
    super();
    this.users.set(adminUser, { tags: ['administrator'], password: adminUser, hash: null });
  }

  /** A user that someone other than warren made (or another deployment's), as it would sit in RabbitMQ. */
  addForeignUser(name: string, tags: string[] = []): void {
    this.users.set(name, { tags, password: 'theirs', hash: null });
  }

  /** An AMQP connection of the user that connection tracking lists. */
  addConnection(user: string, vhost: string): void {
    const list = this.connections.get(user) ?? [];
    list.push({ name: `127.0.0.1:${40000 + this.connectionsMade++} -> 127.0.0.1:5672`, user, vhost });
    this.connections.set(user, list);
  }

  private call(method: RabbitCall, ...args: unknown[]): void {
    const err = this.enter(method, args);
    if (err) throw err;
  }

  private requireVhost(vhost: string, method: HttpMethod, path: string): void {
    if (!this.vhosts.has(vhost)) throw rabbitAnswered(400, 'bad_request', 'vhost_not_found', method, path);
  }

  async overview(): Promise<Overview> {
    this.call('overview');
    return {
      rabbitmq_version: this.version, disable_stats: this.statsDisabled,
      listeners: [{ protocol: 'amqp', port: 5672, node: 'rabbit@fake', ip_address: '::' }],
    };
  }

  async getVhost(vhost: string): Promise<VhostInfo | null> {
    this.call('getVhost', vhost);
    const v = this.vhosts.get(vhost);
    return v ? { name: v.name, ...(v.description === undefined ? {} : { description: v.description }), tags: v.tags ?? [] } : null;
  }

  async listVhosts(): Promise<VhostInfo[]> {
    this.call('listVhosts');
    return [...this.vhosts.values()].map((v) => ({ name: v.name, ...(v.description === undefined ? {} : { description: v.description }), tags: v.tags ?? [] }));
  }

  async putVhost(vhost: string, opts: { description?: string; tags?: string[]; defaultQueueType?: string } = {}): Promise<Created> {
    this.call('putVhost', vhost, opts);
    const existed = this.vhosts.get(vhost);
    this.vhosts.set(vhost, { name: vhost, description: opts.description, tags: opts.tags ?? [], protected: existed?.protected ?? false });
    return existed ? 'existed' : 'created';
  }

  async deleteVhost(vhost: string): Promise<boolean> {
    this.call('deleteVhost', vhost);
    const v = this.vhosts.get(vhost);
    if (!v) return false;
    if (v.protected) throw rabbitAnswered(412, 'precondition_failed', 'vhost is protected from deletion', 'DELETE', `/api/vhosts/${vhost}`);
    this.vhosts.delete(vhost);
    for (const map of [this.permissions, this.topicPermissions]) for (const k of [...map.keys()]) if (splitKey(k)[0] === vhost) map.delete(k);
    this.vhostLimits.delete(vhost);
    this.policies.delete(vhost);
    this.operatorPolicies.delete(vhost);
    for (const [user, list] of this.connections) this.connections.set(user, list.filter((c) => c.vhost !== vhost));
    return true;
  }

  async protectVhostFromDeletion(vhost: string): Promise<boolean> {
    this.call('protectVhostFromDeletion', vhost);
    const v = this.vhosts.get(vhost);
    if (!v) return false;
    v.protected = true;
    return true;
  }

  async unprotectVhostFromDeletion(vhost: string): Promise<boolean> {
    this.call('unprotectVhostFromDeletion', vhost);
    const v = this.vhosts.get(vhost);
    if (!v) return false;
    v.protected = false;
    return true;
  }

  async getUser(user: string): Promise<UserInfo | null> {
    this.call('getUser', user);
    const u = this.users.get(user);
    return u ? { name: user, tags: [...u.tags] } : null;
  }

  async listUsers(): Promise<UserListing[]> {
    this.call('listUsers');
    return [...this.users].map(([name, u]) => ({ name, tags: [...u.tags], ...(u.hash ?? {}) }));
  }

  async getUserHash(user: string): Promise<UserHash | null> {
    this.call('getUserHash', user);
    const u = this.users.get(user);
    return u?.hash ? { ...u.hash, tags: [...u.tags] } : null;
  }

  async putUserHash(user: string, hash: UserHash): Promise<Created> {
    this.call('putUserHash', user, hash);
    const existed = this.users.get(user);
    this.users.set(user, { tags: [...hash.tags], password: existed?.password ?? null, hash: { passwordHash: hash.passwordHash, hashingAlgorithm: hash.hashingAlgorithm } });
    return existed ? 'existed' : 'created';
  }

  async putUser(user: string, opts: { password: string; tags?: string[] }): Promise<Created> {
    this.call('putUser', user, { tags: opts.tags });
    const existed = this.users.has(user);
    this.users.set(user, { tags: [...(opts.tags ?? [])], password: opts.password, hash: { passwordHash: `hash-of-${opts.password}`, hashingAlgorithm: 'fake' } });
    return existed ? 'existed' : 'created';
  }

  async deleteUser(user: string): Promise<boolean> {
    this.call('deleteUser', user);
    if (!this.users.delete(user)) return false;
    for (const map of [this.permissions, this.topicPermissions]) for (const k of [...map.keys()]) if (splitKey(k)[1] === user) map.delete(k);
    this.userLimits.delete(user);
    if (!this.trackingLag.has(user)) this.connections.delete(user); // RabbitMQ closes a deleted user's connections itself
    return true;
  }

  async putPermissions(vhost: string, user: string, perms: Permissions): Promise<Created> {
    this.call('putPermissions', vhost, user, perms);
    this.requireVhost(vhost, 'PUT', `/api/permissions/${vhost}/${user}`);
    if (!this.users.has(user)) throw rabbitAnswered(400, 'bad_request', 'user_not_found', 'PUT', `/api/permissions/${vhost}/${user}`);
    const existed = this.permissions.has(key(vhost, user));
    this.permissions.set(key(vhost, user), { ...perms });
    return existed ? 'existed' : 'created';
  }

  async deletePermissions(vhost: string, user: string): Promise<boolean> {
    this.call('deletePermissions', vhost, user);
    return this.permissions.delete(key(vhost, user));
  }

  async putTopicPermissions(vhost: string, user: string, perms: TopicPermissions): Promise<Created> {
    this.call('putTopicPermissions', vhost, user, perms);
    this.requireVhost(vhost, 'PUT', `/api/topic-permissions/${vhost}/${user}`);
    const list = this.topicPermissions.get(key(vhost, user)) ?? [];
    const existed = list.some((t) => t.exchange === perms.exchange);
    this.topicPermissions.set(key(vhost, user), [...list.filter((t) => t.exchange !== perms.exchange), { ...perms }]);
    return existed ? 'existed' : 'created';
  }

  async deleteTopicPermissions(vhost: string, user: string): Promise<boolean> {
    this.call('deleteTopicPermissions', vhost, user);
    return this.topicPermissions.delete(key(vhost, user));
  }

  async listUserPermissions(user: string): Promise<Array<{ vhost: string } & Permissions>> {
    this.call('listUserPermissions', user);
    return [...this.permissions].filter(([k]) => splitKey(k)[1] === user).map(([k, p]) => ({ vhost: splitKey(k)[0], ...p }));
  }

  async listVhostPermissions(vhost: string): Promise<Array<{ user: string } & Permissions>> {
    this.call('listVhostPermissions', vhost);
    return [...this.permissions].filter(([k]) => splitKey(k)[0] === vhost).map(([k, p]) => ({ user: splitKey(k)[1], ...p }));
  }

  async putVhostLimit(vhost: string, name: VhostLimit, value: number): Promise<void> {
    this.call('putVhostLimit', vhost, name, value);
    this.requireVhost(vhost, 'PUT', `/api/vhost-limits/${vhost}/${name}`);
    this.vhostLimits.set(vhost, { ...this.vhostLimits.get(vhost), [name]: value });
  }

  async deleteVhostLimit(vhost: string, name: VhostLimit): Promise<void> {
    this.call('deleteVhostLimit', vhost, name);
    const limits = this.vhostLimits.get(vhost);
    if (limits) delete limits[name];
  }

  async putUserLimit(user: string, name: UserLimit, value: number): Promise<void> {
    this.call('putUserLimit', user, name, value);
    this.userLimits.set(user, { ...this.userLimits.get(user), [name]: value });
  }

  async deleteUserLimit(user: string, name: UserLimit): Promise<void> {
    this.call('deleteUserLimit', user, name);
    const limits = this.userLimits.get(user);
    if (limits) delete limits[name];
  }

  async listAllPermissions(): Promise<Array<{ user: string; vhost: string } & Permissions>> {
    this.call('listAllPermissions');
    return [...this.permissions].map(([k, p]) => ({ vhost: splitKey(k)[0], user: splitKey(k)[1], ...p }));
  }

  async listAllTopicPermissions(): Promise<Array<{ user: string; vhost: string } & TopicPermissions>> {
    this.call('listAllTopicPermissions');
    return [...this.topicPermissions].flatMap(([k, list]) => list.map((t) => ({ vhost: splitKey(k)[0], user: splitKey(k)[1], ...t })));
  }

  async listAllVhostLimits(): Promise<Map<string, Record<string, number>>> {
    this.call('listAllVhostLimits');
    return new Map([...this.vhostLimits].map(([v, l]) => [v, { ...l }]));
  }

  async listAllUserLimits(): Promise<Map<string, Record<string, number>>> {
    this.call('listAllUserLimits');
    return new Map([...this.userLimits].map(([u, l]) => [u, { ...l }]));
  }

  async listAllPolicies(): Promise<Array<{ vhost: string; name: string } & Policy>> {
    this.call('listAllPolicies');
    return [...this.policies].flatMap(([vhost, m]) => [...m].map(([name, p]) => ({ vhost, name, ...p })));
  }

  async listAllOperatorPolicies(): Promise<Array<{ vhost: string; name: string } & Policy>> {
    this.call('listAllOperatorPolicies');
    return [...this.operatorPolicies].flatMap(([vhost, m]) => [...m].map(([name, p]) => ({ vhost, name, ...p })));
  }

  async putPolicy(vhost: string, name: string, policy: Policy): Promise<Created> {
    this.call('putPolicy', vhost, name, policy);
    return this.putIn(this.policies, vhost, name, policy, 'policies');
  }

  async deletePolicy(vhost: string, name: string): Promise<boolean> {
    this.call('deletePolicy', vhost, name);
    return this.policies.get(vhost)?.delete(name) ?? false;
  }

  async listPolicies(vhost: string): Promise<Array<{ name: string } & Policy>> {
    this.call('listPolicies', vhost);
    return [...(this.policies.get(vhost) ?? [])].map(([name, p]) => ({ name, ...p }));
  }

  async putOperatorPolicy(vhost: string, name: string, policy: Policy): Promise<Created> {
    this.call('putOperatorPolicy', vhost, name, policy);
    return this.putIn(this.operatorPolicies, vhost, name, policy, 'operator-policies');
  }

  async deleteOperatorPolicy(vhost: string, name: string): Promise<boolean> {
    this.call('deleteOperatorPolicy', vhost, name);
    return this.operatorPolicies.get(vhost)?.delete(name) ?? false;
  }

  async listOperatorPolicies(vhost: string): Promise<Array<{ name: string } & Policy>> {
    this.call('listOperatorPolicies', vhost);
    return [...(this.operatorPolicies.get(vhost) ?? [])].map(([name, p]) => ({ name, ...p }));
  }

  async listUserConnections(user: string): Promise<ConnectionRef[]> {
    this.call('listUserConnections', user);
    return [...(this.connections.get(user) ?? [])];
  }

  async connectionInStatistics(name: string): Promise<{ user: string } | null> {
    this.call('connectionInStatistics', name);
    if (this.statsDisabled) return null;
    const known = [...this.connections].find(([user, list]) => !this.ghosts.has(user) && list.some((c) => c.name === name));
    return known ? { user: known[0] } : null;
  }

  async closeUserConnections(user: string, reason?: string): Promise<void> {
    this.call('closeUserConnections', user, reason);
    if (!this.trackingLag.has(user)) this.connections.delete(user);
  }

  private putIn(map: Map<string, Map<string, Policy>>, vhost: string, name: string, policy: Policy, kind: string): Created {
    this.requireVhost(vhost, 'PUT', `/api/${kind}/${vhost}/${name}`);
    const m = map.get(vhost) ?? new Map<string, Policy>();
    const existed = m.has(name);
    m.set(name, { ...policy });
    map.set(vhost, m);
    return existed ? 'existed' : 'created';
  }
}
