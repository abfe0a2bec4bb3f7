// Deletion protection of the vhosts warren makes (RabbitMQ 4.1+): once protected, a DELETE of
// the vhost by anyone (an operator's script, another tool) answers 412 until the protection is
// lifted, which warren does itself right before it deletes the vhost on deprovision.
// On clusters before 4.1 both steps do nothing; while the version is not known yet they try,
// and a 404 (the endpoint does not exist there) means "not supported".
import type { Logger } from 'pino';
import type { RabbitManagement } from '../rabbitmq/management-api.ts';
import type { ClusterFacts } from './cluster-protocols.ts';
import { atLeast } from './policy-compatibility.ts';

export type ProtectionOutcome = 'protected' | 'released' | 'unsupported' | 'disabled';

export class VhostProtection {
  constructor(
    private readonly rabbit: Pick<RabbitManagement, 'protectVhostFromDeletion' | 'unprotectVhostFromDeletion'>,
    private readonly cluster: { facts(): ClusterFacts | undefined },
    /** rabbitmq.vhost_deletion_protection */
    private readonly enabled: boolean,
    private readonly log: Pick<Logger, 'debug'>,
  ) {}

  /** true/false once the version is known; undefined before. */
  supported(): boolean | undefined {
    const version = this.cluster.facts()?.version;
    return version === undefined ? undefined : atLeast(version, 4, 1);
  }

  /** After provision created the vhost. Management errors propagate (the provision decides). */
  async protect(vhost: string): Promise<ProtectionOutcome> {
    if (!this.enabled) return 'disabled';
    if (this.supported() === false) return 'unsupported';
    const done = await this.rabbit.protectVhostFromDeletion(vhost);
    if (!done) this.log.debug({ vhost }, 'vhost deletion protection is not available on this cluster');
    return done ? 'protected' : 'unsupported';
  }

  /**
   * Right before deprovision deletes the vhost. Also runs when protection is disabled in the
   * configuration: a vhost protected while it was enabled must still be deletable.
   */
  async release(vhost: string): Promise<ProtectionOutcome> {
    if (this.supported() === false) return 'unsupported';
    const done = await this.rabbit.unprotectVhostFromDeletion(vhost);
    return done ? 'released' : 'unsupported';
  }
}
