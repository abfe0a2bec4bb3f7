// What a platform believes after its requests, and the check that warren and RabbitMQ agree:
// every instance it believes in answers GET on every live replica and has its vhost; every
// binding it believes in answers GET with the credentials it was given, has its user and logs
// in over AMQP; everything it believes gone answers 404/410 everywhere and has nothing left in
// RabbitMQ.
import { amqpConnect, bindingPath, instancePath, safeClose, type RabbitAdmin } from '../../broker/helpers.ts';
import { outcome, type ReplicaSet } from './replica-set.ts';
import { retrying } from './retrying.ts';

interface Belief {
  kind: 'instance' | 'binding';
  instanceId: string;
  exists: boolean;
  credentials?: Record<string, any>;
}

export class PlatformModel {
  private readonly beliefs = new Map<string, Belief>();
  readonly unresolved: string[] = [];

  instance(id: string, exists: boolean): void {
    this.beliefs.set(id, { kind: 'instance', instanceId: id, exists });
    // A deprovision takes the instance's bindings with it.
    if (!exists) for (const b of this.beliefs.values()) if (b.kind === 'binding' && b.instanceId === id) b.exists = false;
  }

  binding(id: string, instanceId: string, credentials: Record<string, any> | undefined): void {
    this.beliefs.set(id, { kind: 'binding', instanceId, exists: credentials !== undefined, credentials });
  }

  exists(id: string): boolean {
    return this.beliefs.get(id)?.exists ?? false;
  }

  get size(): number {
    return this.beliefs.size;
  }

  existing(kind: 'instance' | 'binding'): string[] {
    return [...this.beliefs].filter(([, b]) => b.kind === kind && b.exists).map(([id]) => id);
  }

  /** Every disagreement between the beliefs and what the replicas and RabbitMQ say. */
  async disagreements(set: ReplicaSet, rmq: RabbitAdmin): Promise<string[]> {
    const out: string[] = [];
    const vhosts = new Set(await retrying(() => rmq.vhostNames()));
    const users = new Set(await retrying(() => rmq.userNames()));
    for (const [id, b] of this.beliefs) {
      const path = b.kind === 'instance' ? instancePath(id) : bindingPath(b.instanceId, id);
      const gets = await set.fanout('GET', path);
      const statuses = gets.map(outcome);
      if (b.exists) {
        if (statuses.some((s) => s !== '200')) out.push(`${b.kind} ${id} should exist; GET: ${gets.map((g, i) => `${g.replica}=${statuses[i]}`).join(', ')}`);
        if (b.kind === 'instance' && !vhosts.has(id)) out.push(`instance ${id} should exist; its vhost is missing`);
        if (b.kind === 'binding') {
          const creds = b.credentials!;
          for (const g of gets) {
            if (g.answer?.status === 200 && JSON.stringify(g.answer.body?.credentials) !== JSON.stringify(creds)) out.push(`binding ${id}: ${g.replica} serves other credentials than the platform was given`);
          }
          if (!users.has(creds.username)) out.push(`binding ${id} should exist; user ${creds.username} is missing`);
          else {
            try {
              await safeClose(await amqpConnect(creds.uri));
            } catch (err) {
              out.push(`binding ${id}: credentials do not log in: ${(err as Error).message}`);
            }
          }
        }
      } else {
        if (statuses.some((s) => !['404 NotFound', '410', '404'].includes(s))) out.push(`${b.kind} ${id} should be gone; GET: ${gets.map((g, i) => `${g.replica}=${statuses[i]}`).join(', ')}`);
        if (b.kind === 'instance' && vhosts.has(id)) out.push(`instance ${id} should be gone; its vhost is still there`);
        if (b.kind === 'binding' && [...users].some((u) => u.startsWith(`${id}-`))) out.push(`binding ${id} should be gone; a user is still there`);
      }
    }
    return out;
  }
}
