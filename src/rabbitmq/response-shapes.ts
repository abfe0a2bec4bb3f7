// Turns RabbitMQ's JSON into the interface's types. A throw here becomes a
// ManagementProtocolError in the funnel (the body is already consumed by then).
import type { ConnectionRef, Listener, Overview, Permissions, Policy, TopicPermissions, UserHash, UserInfo, UserListing, VhostInfo } from './management-api.ts';

type Obj = Record<string, unknown>;

export function obj(v: unknown, what: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${what}: expected an object`);
  return v as Obj;
}

export function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new TypeError(`${what}: expected an array`);
  return v;
}

function str(o: Obj, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new TypeError(`${what}: '${key}' is not a string`);
  return v;
}

/** Tags are an array since 3.9-ish and a comma-joined string before. */
export function tags(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((t): t is string => typeof t === 'string' && t !== '');
  if (typeof v === 'string') return v.split(',').map((t) => t.trim()).filter((t) => t !== '');
  return [];
}

/** Listing entries with a string name (others are objects vanishing as the listing is made). */
const named = (v: unknown): boolean => typeof (v as { name?: unknown } | null)?.name === 'string';

/** A listing's entries that have a name, each read by `parse`. */
export function namedEntries<T>(v: unknown, what: string, parse: (entry: unknown) => T): T[] {
  return arr(v, what).filter(named).map((e) => parse(e));
}

export function overview(v: unknown): Overview {
  const o = obj(v, 'overview');
  const listeners: Listener[] = arr(o.listeners ?? [], 'overview.listeners').map((l) => {
    const x = obj(l, 'listener');
    return { protocol: str(x, 'protocol', 'listener'), port: Number(x.port), node: String(x.node ?? ''), ip_address: String(x.ip_address ?? '') };
  });
  const out: Overview = { rabbitmq_version: str(o, 'rabbitmq_version', 'overview'), listeners };
  if (typeof o.cluster_name === 'string') out.cluster_name = o.cluster_name;
  if (typeof o.disable_stats === 'boolean') out.disable_stats = o.disable_stats;
  return out;
}

export function vhost(v: unknown): VhostInfo {
  const o = obj(v, 'vhost');
  const out: VhostInfo = { name: str(o, 'name', 'vhost'), tags: tags(o.tags) };
  if (typeof o.description === 'string') out.description = o.description;
  return out;
}

export function user(v: unknown): UserInfo {
  const o = obj(v, 'user');
  return { name: str(o, 'name', 'user'), tags: tags(o.tags) };
}

export function permissions(v: unknown): Array<{ user: string } & Permissions> {
  return stringEntries(v, 'permission', ['user', 'configure', 'write', 'read']);
}

export function policies(v: unknown): Array<{ name: string } & Policy> {
  return arr(v, 'policies').map((p) => {
    const o = obj(p, 'policy');
    const out: { name: string } & Policy = {
      name: str(o, 'name', 'policy'),
      pattern: str(o, 'pattern', 'policy'),
      definition: obj(o.definition, 'policy.definition'),
    };
    if (typeof o.priority === 'number') out.priority = o.priority;
    if (typeof o['apply-to'] === 'string') out['apply-to'] = o['apply-to'] as Policy['apply-to'];
    return out;
  });
}

export function connections(v: unknown): ConnectionRef[] {
  return arr(v, 'connections').map((c) => {
    const o = obj(c, 'connection');
    const out: ConnectionRef = { name: str(o, 'name', 'connection'), user: str(o, 'user', 'connection'), vhost: str(o, 'vhost', 'connection') };
    if (typeof o.node === 'string') out.node = o.node;
    return out;
  });
}

/** GET /api/connections/{name}: only who it belongs to (statistics carry much more). */
export function connectionOwner(v: unknown): { user: string } {
  return { user: str(obj(v, 'connection'), 'user', 'connection') };
}

export function userHash(v: unknown): UserHash {
  const o = obj(v, 'user');
  return { passwordHash: str(o, 'password_hash', 'user'), hashingAlgorithm: str(o, 'hashing_algorithm', 'user'), tags: tags(o.tags) };
}

export function userListing(v: unknown): UserListing {
  const o = obj(v, 'user');
  const out: UserListing = { name: str(o, 'name', 'user'), tags: tags(o.tags) };
  if (typeof o.password_hash === 'string' && o.password_hash !== '') out.passwordHash = o.password_hash;
  if (typeof o.hashing_algorithm === 'string') out.hashingAlgorithm = o.hashing_algorithm;
  return out;
}

export function allPermissions(v: unknown): Array<{ user: string; vhost: string } & Permissions> {
  return stringEntries(v, 'permission', ['user', 'vhost', 'configure', 'write', 'read']);
}

export function allTopicPermissions(v: unknown): Array<{ user: string; vhost: string } & TopicPermissions> {
  return stringEntries(v, 'topic permission', ['user', 'vhost', 'exchange', 'write', 'read']);
}

/** An array (of `what`s) of objects whose `keys` are all strings. */
function stringEntries<K extends string>(v: unknown, what: string, keys: readonly K[]): Array<Record<K, string>> {
  return arr(v, `${what}s`).map((e) => {
    const o = obj(e, what);
    const out = {} as Record<K, string>; // every key is set below
    for (const k of keys) out[k] = str(o, k, what);
    return out;
  });
}

export function allPolicies(v: unknown): Array<{ vhost: string; name: string } & Policy> {
  const vhosts = arr(v, 'policies').map((p) => str(obj(p, 'policy'), 'vhost', 'policy'));
  return policies(v).map((p, i) => ({ ...p, vhost: vhosts[i]! }));
}

/** GET /api/{vhost,user}-limits: [{vhost|user: name, value: {limit: n}}], by name. */
export function allLimits(v: unknown, key: 'vhost' | 'user'): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const e of arr(v, 'limits')) {
    const o = obj(e, 'limits entry');
    const value = obj(o.value ?? {}, 'limits value');
    const limits: Record<string, number> = {};
    for (const [k, n] of Object.entries(value)) if (typeof n === 'number') limits[k] = n;
    out.set(str(o, key, 'limits entry'), limits);
  }
  return out;
}
