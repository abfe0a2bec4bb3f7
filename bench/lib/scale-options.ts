// Options of the scale part of bench/run.ts (--scale, or --only scale): their own block, parsed
// by options.ts for any flag it does not know itself.

export interface ScaleOptions {
  /** Instances seeded into each scale warren's store before it starts (one warren per size). */
  sizes: number[];
  bindingsPerInstance: number;
  concurrency: number[];
  rounds: number;
  seconds: number;
  /** Real vhosts (the run's prefix) present while PUT /api/vhosts is timed, in increasing order. */
  vhostLevels: number[];
  /** Vhosts created, timed and deleted at each level. */
  vhostProbes: number;
}

export const SCALE_HELP = `
Scale (--scale, or --only scale; not in the default run):
  --scale                 warren's own share of a bind+unbind with a seeded store, and RabbitMQ's
                          vhost creation time against the number of vhosts
  --scale-sizes LIST      instances seeded into warren's store (through its Store interface, no
                          RabbitMQ objects), one warren per size, interleaved with raw
                          (default 0,1000,10000; quick 0,1000)
  --scale-bindings N      bindings seeded per instance (default 5)
  --scale-concurrency LIST  (default 1,8; quick 1)
  --scale-rounds N        (default 4; quick 2)   --scale-seconds S (default 3; quick 1)
  --vhost-levels LIST     real vhosts (run prefix, deleted after) present while PUT /api/vhosts is
                          timed (default 0,100,300; quick 0,20); no filler is added while
                          RabbitMQ uses over half its file descriptors (each vhost holds files
                          open; at the limit RabbitMQ's Mnesia stops and the node needs a restart)
  --vhost-probes N        vhosts created and timed at each level (default 10; quick 3)
`;

export function defaultScaleOptions(quick: boolean): ScaleOptions {
  return {
    sizes: quick ? [0, 1000] : [0, 1000, 10_000],
    bindingsPerInstance: 5,
    concurrency: quick ? [1] : [1, 8],
    rounds: quick ? 2 : 4,
    seconds: quick ? 1 : 3,
    vhostLevels: quick ? [0, 20] : [0, 100, 300],
    vhostProbes: quick ? 3 : 10,
  };
}

function list(flag: string, v: string, min: number): number[] {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < min)) throw new Error(`${flag} needs a comma-separated list of integers >= ${min}`);
  return xs;
}

function int(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`${flag} needs a number >= ${min}`);
  return n;
}

/** Applies one scale flag; false when the flag is not a scale flag. `value` reads its argument. */
export function parseScaleOption(flag: string, value: () => string, o: ScaleOptions): boolean {
  switch (flag) {
    case '--scale-sizes':
      o.sizes = list(flag, value(), 0);
      return true;
    case '--scale-bindings':
      o.bindingsPerInstance = int(flag, value(), 0);
      return true;
    case '--scale-concurrency':
      o.concurrency = list(flag, value(), 1);
      return true;
    case '--scale-rounds':
      o.rounds = int(flag, value(), 1);
      return true;
    case '--scale-seconds':
      o.seconds = int(flag, value(), 0.1);
      return true;
    case '--vhost-levels':
      o.vhostLevels = list(flag, value(), 0).sort((a, b) => a - b);
      return true;
    case '--vhost-probes':
      o.vhostProbes = int(flag, value(), 1);
      return true;
    default:
      return false;
  }
}
