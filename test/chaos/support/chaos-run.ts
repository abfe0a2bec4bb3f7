// One fault proxy in front of the machine's management API and one warren behind it, as a chaos
// test starts them; disposed after its describe block with every RabbitMQ object under its prefix.
import { RequestFaultProxy, type RequestFaultProxyOptions } from '../../rabbitmq/helpers/request-fault-proxy.ts';
import { ChaosWarren, type ChaosWarrenOptions } from './chaos-warren.ts';
import type { RabbitView } from './invariants.ts';

const MANAGEMENT_PORT = 15672;

export class ChaosRun {
  #proxy: RequestFaultProxy | undefined;
  #warren: ChaosWarren | undefined;

  constructor(private readonly rabbit: RabbitView, private readonly prefix: string) {}

  /** A fresh proxy and a started warren behind it; those of an earlier start are stopped first. */
  async start(proxyOptions: RequestFaultProxyOptions, warrenOptions: Omit<ChaosWarrenOptions, 'managementPort'> = {}) {
    await this.#stop();
    const proxy = (this.#proxy = await RequestFaultProxy.start(MANAGEMENT_PORT, proxyOptions));
    const warren = (this.#warren = new ChaosWarren({ ...warrenOptions, managementPort: proxy.port }));
    await warren.start();
    return { proxy, warren };
  }

  async dispose(): Promise<void> {
    await this.#stop();
    await this.rabbit.purge(this.prefix);
  }

  async #stop(): Promise<void> {
    await this.#warren?.dispose();
    await this.#proxy?.close();
    this.#warren = undefined;
    this.#proxy = undefined;
  }
}
