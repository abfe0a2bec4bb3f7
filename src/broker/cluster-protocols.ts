// Which protocols (and ports) the cluster offers, for the credentials. Read from the cluster's
// listeners once at start and refreshed in the background, never per bind: a bind must not
// pay for GET /api/overview. Configured protocols replace discovery entirely.
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

export class ClusterProtocols {
  private ports: ProtocolPorts;
  private discovered = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

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

  /** Reads the listeners now; keeps the previous answer when RabbitMQ cannot be reached. */
  async refresh(): Promise<void> {
    if (this.fixed) return;
    try {
      const overview = await this.rabbit.overview();
      const found = protocolsFromListeners(overview.listeners ?? []);
      if (Object.keys(found).length > 0) {
        this.ports = found;
        if (!this.discovered) this.log.info({ protocols: found, rabbitmq_version: overview.rabbitmq_version }, 'discovered RabbitMQ protocols');
        this.discovered = true;
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not read RabbitMQ listeners; credentials use the last known protocols');
    }
  }

  /** Refreshes now, then every intervalMs until stop(). Retries sooner while never discovered. */
  start(intervalMs = 5 * 60_000): Promise<void> {
    const tick = async () => {
      await this.refresh();
      if (this.stopped) return; // stop() came while the refresh was running
      this.timer = setTimeout(tick, this.discovered || this.fixed ? intervalMs : 5_000);
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
