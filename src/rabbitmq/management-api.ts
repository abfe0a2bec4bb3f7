// What the broker needs from RabbitMQ's management HTTP API. The broker depends on this
// interface only; ManagementClient (client.ts) is the real implementation.

export type Created = 'created' | 'existed';

export interface Permissions {
  configure: string;
  write: string;
  read: string;
}

export interface TopicPermissions {
  exchange: string;
  write: string;
  read: string;
}

export interface Policy {
  pattern: string;
  definition: Record<string, unknown>;
  priority?: number;
  'apply-to'?: 'queues' | 'exchanges' | 'all' | 'classic_queues' | 'quorum_queues' | 'streams';
}

export interface VhostInfo {
  name: string;
  description?: string;
  tags?: string[] | string;
}

export interface UserInfo {
  name: string;
  tags: string[];
}

/** A user as the cluster-wide listing shows it (the hash is absent for users without a password). */
export interface UserListing extends UserInfo {
  passwordHash?: string;
  hashingAlgorithm?: string;
}

/** A user's stored password hash: lets warren re-tag a user without knowing (or changing) its password. */
export interface UserHash {
  passwordHash: string;
  hashingAlgorithm: string;
  tags: string[];
}

export interface ConnectionRef {
  name: string;
  user: string;
  vhost: string;
  node?: string;
}

export interface Listener {
  protocol: string; // 'amqp', 'amqp/ssl', 'mqtt', 'mqtt/ssl', 'stomp', 'stomp/ssl', 'http', 'https', ...
  port: number;
  node: string;
  ip_address: string;
}

export interface Overview {
  rabbitmq_version: string;
  cluster_name?: string;
  /** management.disable_stats: statistics (connections by name among them) are not collected. */
  disable_stats?: boolean;
  listeners: Listener[];
}

export type VhostLimit = 'max-connections' | 'max-queues';
export type UserLimit = 'max-connections' | 'max-channels';

export interface RabbitManagement {
  overview(): Promise<Overview>;

  getVhost(vhost: string): Promise<VhostInfo | null>;
  /** Every vhost of the cluster: names, descriptions, tags (GET /api/vhosts, few columns). */
  listVhosts(): Promise<VhostInfo[]>;
  /** PUT /api/vhosts/{vhost}: 'created' on 201, 'existed' on 204. */
  putVhost(vhost: string, opts?: { description?: string; tags?: string[]; defaultQueueType?: string }): Promise<Created>;
  /** false when the vhost did not exist (404). A protected vhost (4.1+) answers 412: a ManagementError. */
  deleteVhost(vhost: string): Promise<boolean>;
  /**
   * POST /api/vhosts/{vhost}/deletion/protection (RabbitMQ 4.1+): the vhost cannot be deleted
   * until the protection is lifted. false on 404/405: no such vhost, or a RabbitMQ before 4.1.
   */
  protectVhostFromDeletion(vhost: string): Promise<boolean>;
  /** DELETE /api/vhosts/{vhost}/deletion/protection. false on 404/405 (as above). */
  unprotectVhostFromDeletion(vhost: string): Promise<boolean>;

  getUser(user: string): Promise<UserInfo | null>;
  /** Every user of the cluster: names, tags and password hashes (GET /api/users, those columns). */
  listUsers(): Promise<UserListing[]>;
  /** The user's password hash and tags, or null when the user does not exist. */
  getUserHash(user: string): Promise<UserHash | null>;
  /** PUT /api/users/{user} with a password hash: the password stays what it was. */
  putUserHash(user: string, hash: UserHash): Promise<Created>;
  /** PUT /api/users/{user}. Overwrites an existing user's password: callers must make sure it is theirs. */
  putUser(user: string, opts: { password: string; tags?: string[] }): Promise<Created>;
  /** false when the user did not exist (404). RabbitMQ closes the user's connections itself. */
  deleteUser(user: string): Promise<boolean>;

  putPermissions(vhost: string, user: string, perms: Permissions): Promise<Created>;
  deletePermissions(vhost: string, user: string): Promise<boolean>;
  putTopicPermissions(vhost: string, user: string, perms: TopicPermissions): Promise<Created>;
  /** Removes all of the user's topic permissions on the vhost; false when there were none. */
  deleteTopicPermissions(vhost: string, user: string): Promise<boolean>;
  /** The vhosts a user has permissions on (GET /api/users/{user}/permissions; [] when the user is gone). */
  listUserPermissions(user: string): Promise<Array<{ vhost: string } & Permissions>>;
  /** Users with permissions on the vhost (GET /api/vhosts/{vhost}/permissions). */
  listVhostPermissions(vhost: string): Promise<Array<{ user: string } & Permissions>>;

  /** PUT /api/vhost-limits/{vhost}/{name} {"value": n}; -1 means unlimited. */
  putVhostLimit(vhost: string, name: VhostLimit, value: number): Promise<void>;
  deleteVhostLimit(vhost: string, name: VhostLimit): Promise<void>;
  putUserLimit(user: string, name: UserLimit, value: number): Promise<void>;
  deleteUserLimit(user: string, name: UserLimit): Promise<void>;

  // Cluster-wide listings: one call each, however many vhosts and users there are (reconcile).
  listAllPermissions(): Promise<Array<{ user: string; vhost: string } & Permissions>>;
  listAllTopicPermissions(): Promise<Array<{ user: string; vhost: string } & TopicPermissions>>;
  /** Limits by vhost, then by limit name. */
  listAllVhostLimits(): Promise<Map<string, Record<string, number>>>;
  /** Limits by user, then by limit name. */
  listAllUserLimits(): Promise<Map<string, Record<string, number>>>;
  listAllPolicies(): Promise<Array<{ vhost: string; name: string } & Policy>>;
  listAllOperatorPolicies(): Promise<Array<{ vhost: string; name: string } & Policy>>;

  putPolicy(vhost: string, name: string, policy: Policy): Promise<Created>;
  deletePolicy(vhost: string, name: string): Promise<boolean>;
  listPolicies(vhost: string): Promise<Array<{ name: string } & Policy>>;
  putOperatorPolicy(vhost: string, name: string, policy: Policy): Promise<Created>;
  deleteOperatorPolicy(vhost: string, name: string): Promise<boolean>;
  listOperatorPolicies(vhost: string): Promise<Array<{ name: string } & Policy>>;

  /** GET /api/connections/username/{user}: connection tracking, current within milliseconds. */
  listUserConnections(user: string): Promise<ConnectionRef[]>;
  /**
   * GET /api/connections/{name}: the user of the connection as management statistics know it,
   * or null when they do not. They lag by up to collect_statistics_interval, and drop a
   * connection as soon as it closes.
   */
  connectionInStatistics(name: string): Promise<{ user: string } | null>;
  /** DELETE /api/connections/username/{user} (204 also when there are none). */
  closeUserConnections(user: string, reason?: string): Promise<void>;
}
