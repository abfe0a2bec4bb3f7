// Who runs the deployment's background jobs: 1 on the replica holding the lease, 0 elsewhere,
// with the lease's epoch (it rises each time the lease changes hands).
import { Gauge, type Registry } from 'prom-client';

export interface CoordinationSources {
  lease: () => { held: boolean; epoch: number | null };
  owner: string;
}

export function registerCoordinationMetrics(registry: Registry, sources: CoordinationSources): void {
  const registers = [registry];
  void new Gauge({
    name: 'warren_background_lease_held', help: 'Whether this replica holds the lease that runs the background jobs',
    labelNames: ['replica'], registers,
    collect() {
      this.set({ replica: sources.owner }, sources.lease().held ? 1 : 0);
    },
  });
  void new Gauge({
    name: 'warren_background_lease_epoch', help: 'Epoch of the background lease as last seen by its holder (rises on each change of holder)',
    registers,
    collect() {
      const { held, epoch } = sources.lease();
      if (held && epoch !== null) this.set(epoch);
      else this.reset();
    },
  });
}
