// Command line of bench/run.ts.

import { SCALE_HELP, defaultScaleOptions, parseScaleOption, type ScaleOptions } from './scale-options.ts';

export const EXTRA_ARMS = ['minimal', 'raw+confirm', 'warren-info'] as const;
export type ExtraArm = (typeof EXTRA_ARMS)[number];

export interface Options {
  mode: 'full' | 'quick';
  concurrency: number[];
  bindRounds: number;
  bindSeconds: number;
  provisionRounds: number;
  provisionSeconds: number;
  warmupSeconds: number;
  osbapiSeconds: number;
  scenarios: Set<'bind' | 'provision' | 'osbapi'>;
  /** Arms of the bind/unbind comparison besides warren and raw. */
  extraArms: Set<ExtraArm>;
  soak: boolean;
  soakOps: number;
  soakConcurrency: number;
  profile: boolean;
  profileSeconds: number;
  profileConcurrency: number;
  profileDir?: string;
  json?: string;
  report?: string;
  markdown: boolean;
  updateBenchmarks?: string;
  from: string[];
  managementUrl: string;
  /** PostgreSQL server URL: each warren arm gets a fresh database of its own there (default: SQLite). */
  postgres?: string;
  /** Another warren checkout (with node_modules) run as the 'baseline' arm of bind/unbind. */
  baseline?: string;
  /** --profile profiles the --baseline warren instead of this one. */
  profileBaseline: boolean;
  /** Run this checkout's warren from the sources through tsx instead of the compiled build. */
  tsx: boolean;
  /** Node flags for the compiled warren instead of those of `npm start`. */
  nodeFlags?: string[];
  help: boolean;
  /** --scale (or --only scale) and its settings (lib/scale-options.ts). */
  scale: boolean;
  scaleOptions: ScaleOptions;
}

export const HELP = `Usage: npm run bench -- [options]      (node --import tsx bench/run.ts [options])

Measures warren against the raw RabbitMQ management API it sits in front of: the same work
(bind+unbind, provision+deprovision) through warren (its own process, WARREN_LOG_LEVEL=warn)
and as the minimal raw management calls, interleaved round by round, at several concurrencies.
Also: management calls per operation, warren's CPU and RSS, the OSBAPI layer alone (GET
catalog / instance / binding), logging at info vs warn, and optionally a memory soak and a CPU
profile. Needs RabbitMQ with management at 127.0.0.1:15672 (guest/guest). Progress goes to
stderr, the table to stdout. Every user and vhost it creates is deleted (also on Ctrl-C).

Modes:
  (default)               full run, about 7 minutes on a 2-core machine
  --quick                 short run (< 60 s) that proves the bench works; numbers are rough

Extras (not in the default run):
  --soak                  memory soak: a fresh warren, bind/unbind until --soak-ops operations,
                          RSS sampled along the way (goal: within 20 MB of RSS after 1,000 ops)
  --soak-ops N            operations (bind or unbind) in the soak (default 100000)
  --soak-concurrency N    (default 32)
  --profile               run a separate warren under node --cpu-prof during bind/unbind and
                          summarize its self time (see also bench/profile-summary.ts)
  --profile-seconds S     (default 15)   --profile-concurrency N (default 8)
  --profile-dir DIR       where the .cpuprofile goes (default: a new temp dir; kept)
  --profile-baseline      profile the --baseline warren instead (same load), to compare the two

Shape of the run:
  --concurrency LIST      comma-separated (default 1,8,32)
  --only LIST             any of bind,provision,osbapi,soak,profile,scale (default bind,provision,osbapi);
                          e.g. --only soak runs just the memory soak
  --rounds N              rounds per arm for bind/unbind (default 5; quick 2)
  --seconds S             seconds per round and arm for bind/unbind (default 3; quick 1)
  --provision-rounds N    (default 4; quick 1)   --provision-seconds S (default 4; quick 1.5)
  --osbapi-seconds S      per endpoint and concurrency (default 3; quick 0.5)
  --warmup S              unmeasured warm-up per arm before each concurrency (default 1; quick 0.3)
  --arms LIST             extra arms of the bind/unbind comparison, besides warren and raw
                          (default in full runs: minimal,raw+confirm,warren-info; quick: minimal):
                            minimal      the minimal broker (bench/support/minimal-broker.ts): a Node
                                         process making exactly the calls warren's guarantees need
                                         (bind: PUT user, PUT permissions; unbind: DELETE user, GET
                                         its connections) through an undici pool of 32, with no
                                         store, schema or auth check; the headline: warren / minimal
                                         ('null-broker' is accepted as its old name)
                            raw+confirm  raw plus the GET /api/connections/username warren's unbind adds
                            warren-info  a second warren at WARREN_LOG_LEVEL=info (logging cost)
  --no-info               drop the warren-info arm
  --postgres URL          store warren's state in PostgreSQL: a fresh database per warren process
                          on that server (e.g. postgres://postgres@127.0.0.1:5432/postgres), dropped after
  --baseline DIR          add a 'baseline' arm to bind/unbind: the warren checked out in DIR (its own
                          node_modules), e.g. an older commit (git worktree add --detach DIR REV), run
                          like warren (same store kind, log level, plan) and interleaved with it
  --management-url URL    RabbitMQ management with credentials (default http://guest:guest@127.0.0.1:15672)

How warren runs:
  (default)               as operators run it: the compiled build, \`node <flags of npm start>
                          bin/warren.mjs serve\` (package.json "start"); the bench runs \`npm run build\`
                          first when dist/ is missing or older than src/, tsconfig or package.json
  --tsx                   the sources through tsx instead (no build; tsx adds tens of MB of RSS and
                          some CPU); a --baseline checkout always runs its own build
  --node-flags="FLAGS"    node flags for this checkout's compiled warren instead of those of npm start,
                          e.g. --node-flags="--max-semi-space-size=1 --optimize-for-size" (the = is needed)

Output:
  --json FILE             the results as JSON (input for --from)
  --report FILE           a self-contained HTML report with inline SVG charts
  --markdown              print the results as markdown tables (for BENCHMARKS.md)
  --update-benchmarks [FILE]  replace the generated section of BENCHMARKS.md (or FILE)
  --from FILE             do not measure: read a --json file and print/emit from it; repeat to
                          merge runs (e.g. the full run and a --only soak run): the first file's
                          scenarios/tables win, memory results are added
  --help                  this text
${SCALE_HELP}`;

function num(name: string, v: string | undefined, min = 0): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < min) throw new Error(`${name} needs a number >= ${min}`);
  return n;
}

export function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const o: Options = {
    mode: quick ? 'quick' : 'full',
    concurrency: [1, 8, 32],
    bindRounds: quick ? 2 : 5,
    bindSeconds: quick ? 1 : 3,
    provisionRounds: quick ? 1 : 4,
    provisionSeconds: quick ? 1.5 : 4,
    warmupSeconds: quick ? 0.3 : 1,
    osbapiSeconds: quick ? 0.5 : 3,
    scenarios: new Set(['bind', 'provision', 'osbapi']),
    extraArms: new Set<ExtraArm>(quick ? ['minimal'] : ['minimal', 'raw+confirm', 'warren-info']),
    soak: false,
    soakOps: 100_000,
    soakConcurrency: 32,
    profile: false,
    profileSeconds: 15,
    profileConcurrency: 8,
    markdown: false,
    from: [],
    managementUrl: 'http://guest:guest@127.0.0.1:15672',
    profileBaseline: false,
    tsx: false,
    help: false,
    scale: false,
    scaleOptions: defaultScaleOptions(quick),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        o.help = true;
        break;
      case '--quick':
        break;
      case '--full':
        break;
      case '--soak':
        o.soak = true;
        break;
      case '--soak-ops':
        o.soakOps = num(flag, value(), 1000);
        break;
      case '--soak-concurrency':
        o.soakConcurrency = num(flag, value(), 1);
        break;
      case '--profile':
        o.profile = true;
        break;
      case '--profile-seconds':
        o.profileSeconds = num(flag, value(), 1);
        break;
      case '--profile-concurrency':
        o.profileConcurrency = num(flag, value(), 1);
        break;
      case '--profile-dir':
        o.profileDir = value();
        break;
      case '--concurrency':
        o.concurrency = value().split(',').map((s) => num('--concurrency', s.trim(), 1));
        break;
      case '--only': {
        const parts = value().split(',').map((s) => s.trim());
        for (const p of parts) if (!['bind', 'provision', 'osbapi', 'soak', 'profile', 'scale'].includes(p)) throw new Error(`--only: unknown part "${p}"`);
        o.scenarios = new Set(parts.filter((p): p is 'bind' | 'provision' | 'osbapi' => ['bind', 'provision', 'osbapi'].includes(p)));
        if (parts.includes('soak')) o.soak = true;
        if (parts.includes('profile')) o.profile = true;
        if (parts.includes('scale')) o.scale = true;
        break;
      }
      case '--rounds':
        o.bindRounds = num(flag, value(), 1);
        break;
      case '--seconds':
        o.bindSeconds = num(flag, value(), 0.1);
        break;
      case '--provision-rounds':
        o.provisionRounds = num(flag, value(), 1);
        break;
      case '--provision-seconds':
        o.provisionSeconds = num(flag, value(), 0.1);
        break;
      case '--osbapi-seconds':
        o.osbapiSeconds = num(flag, value(), 0.1);
        break;
      case '--warmup':
        o.warmupSeconds = num(flag, value(), 0);
        break;
      case '--no-info':
        o.extraArms.delete('warren-info');
        break;
      case '--arms': {
        const parts = value().split(',').map((s) => s.trim()).filter((s) => s && s !== 'warren' && s !== 'raw')
          .map((s) => (s === 'null-broker' ? 'minimal' : s));
        const isArm = (p: string): p is ExtraArm => (EXTRA_ARMS as readonly string[]).includes(p);
        for (const p of parts) if (!isArm(p)) throw new Error(`--arms: unknown arm "${p}"`);
        o.extraArms = new Set(parts.filter(isArm));
        break;
      }
      case '--management-url':
        o.managementUrl = value();
        break;
      case '--postgres':
        o.postgres = value();
        break;
      case '--baseline':
        o.baseline = value();
        break;
      case '--profile-baseline':
        o.profileBaseline = true;
        break;
      case '--tsx':
        o.tsx = true;
        break;
      case '--node-flags':
        o.nodeFlags = value().split(/\s+/).filter(Boolean);
        break;
      case '--json':
        o.json = value();
        break;
      case '--report':
        o.report = value();
        break;
      case '--markdown':
        o.markdown = true;
        break;
      case '--update-benchmarks': {
        const next = inline ?? argv[i + 1];
        if (next !== undefined && !next.startsWith('--')) {
          o.updateBenchmarks = next;
          if (inline === undefined) i++;
        } else o.updateBenchmarks = 'BENCHMARKS.md';
        break;
      }
      case '--from':
        o.from.push(value());
        break;
      case '--scale':
        o.scale = true;
        break;
      default:
        if (!parseScaleOption(flag, value, o.scaleOptions)) throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  if (o.nodeFlags && o.tsx) throw new Error('--node-flags applies to the compiled build, not --tsx');
  if (o.profileBaseline && !o.baseline) throw new Error('--profile-baseline needs --baseline DIR');
  return o;
}
