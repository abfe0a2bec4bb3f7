// What warren knows of the cluster from GET /api/overview: which protocols (and ports) it
// offers, for the credentials, and its RabbitMQ version (what plans may use, whether vhosts can
// be protected). Read in the background from start, never awaited by startup and never per
// bind: a bind must not pay for GET /api/overview. Until the first answer, credentials use
// RabbitMQ's default ports; retries back off from 1 s to 30 s. Configured protocols replace
// port discovery, not version discovery.
import type { Logger } from 'pino';
import type { ProtocolName } from '../config/config-types.ts';
import type { Listener, RabbitManagement } from '../rabbitmq/management-api.ts';

export type ProtocolPorts = Partial<Record<ProtocolName, number>>;

const LISTENER_PROTOCOLS: Record<string, ProtocolName> = {
  amqp: 'amqp',
  'amqp/ssl': 'amqp+ssl',
  mqtt: 'mqtt',
  'mqtt/ssl': 'mqtt+ssl',
  stomp: 'stomp',
  'stomp/ssl': 'stomp+ssl',
  http: 'management',
  https: 'management+ssl',
};

/** What is assumed until the cluster has answered once: RabbitMQ's default ports. */
const FALLBACK: ProtocolPorts = { amqp: 5672, management: 15672 };

export function protocolsFromListeners(listeners: Listener[]): ProtocolPorts {
  const out: ProtocolPorts = {};
  for (const l of listeners) {
    const name = LISTENER_PROTOCOLS[l.protocol];
    if (name && out[name] === undefined) out[name] = l.port;
  }
  return out;
}

/** What the cluster said about itself. */
export interface ClusterFacts {
  /** e.g. '3.10.8' */
  version: string;
  clusterName?: string;
  /** When it was last read (ISO 8601). */
  readAt: string;
}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

export class ClusterProtocols {
  private ports: ProtocolPorts;
  private discovered = false;
  private known: ClusterFacts | undefined;
  private readonly listeners: Array<(facts: ClusterFacts, first: boolean) => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private retryMs = RETRY_MIN_MS;

  constructor(
    private readonly rabbit: RabbitManagement,
    private readonly configured: ProtocolPorts,
    private readonly log: Logger,
  ) {
    this.ports = Object.keys(configured).length > 0 ? configured : FALLBACK;
  }

  get fixed(): boolean {
    return Object.keys(this.configured).length > 0;
  }

  current(): ProtocolPorts {
    return this.ports;
  }

  /** The cluster's version and name, once it has answered. */
  facts(): ClusterFacts | undefined {
    return this.known;
  }

  /** Called after every successful read (`first` on the first one): checks that depend on the version. */
  onDiscovered(listener: (facts: ClusterFacts, first: boolean) => void): void {
    this.listeners.push(listener);
    if (this.known) listener(this.known, true);
  }

  /** Reads the overview now; keeps the previous answer when RabbitMQ cannot be reached. true when it answered. */
  async refresh(): Promise<boolean> {
    let overview: Awaited<ReturnType<RabbitManagement['overview']>>;
    try {
      overview = await this.rabbit.overview();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not read the RabbitMQ overview; credentials use the last known protocols');
      return false;
    }
    if (!this.fixed) {
      const found = protocolsFromListeners(overview.listeners ?? []);
      if (Object.keys(found).length > 0) this.ports = found;
    }
    const first = !this.discovered;
    const before = this.known?.version;
    this.known = { version: overview.rabbitmq_version, readAt: new Date().toISOString(), ...(overview.cluster_name ? { clusterName: overview.cluster_name } : {}) };
    this.discovered = true;
    if (first || before !== this.known.version) {
      this.log.info({ protocols: this.ports, rabbitmq_version: this.known.version, cluster_name: this.known.clusterName }, 'discovered the RabbitMQ cluster');
    }
    for (const l of this.listeners) {
      try {
        l(this.known, first);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'a cluster discovery listener failed');
      }
    }
    return true;
  }

  /**
   * Reads now, then every intervalMs until stop(); while RabbitMQ has never answered, retries
   * with backoff (1 s doubling to 30 s). Startup does not await it.
   */
  start(intervalMs = 5 * 60_000): Promise<void> {
    const tick = async () => {
      const ok = await this.refresh();
      if (this.stopped) return; // stop() came while the refresh was running
      let next = intervalMs;
      if (!this.discovered) {
        next = this.retryMs;
        this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
      } else if (ok) this.retryMs = RETRY_MIN_MS;
      this.timer = setTimeout(tick, next);
      this.timer.unref();
    };
    return tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
