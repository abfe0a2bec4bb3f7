// The soak's command line (npm run soak -- --help): parses the flags, runs runSoak() (soak.ts),
// prints the table and writes the reports (soak-report.ts); or, with --from-json, draws an
// earlier run again.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_OPTIONS, type SoakOptions } from './soak-options.ts';
import { formatTable, writeReports } from './soak-report.ts';
import type { SoakResult } from './soak-result.ts';
import { runSoak } from './soak.ts';

const HELP = `npm run soak -- [options]

Starts warren as its own process under a low ulimit -n, runs bind/unbind cycles at high
concurrency plus provision/deprovision cycles (some with live AMQP connections, some failing on
purpose), samples the process with the leak guard, and fails on any leak class, fd growth
beyond the management pool, RSS growth beyond the bound, unexpected answers, surviving AMQP
connections or leftovers in RabbitMQ. Exit status: 0 pass, 1 fail, 2 usage error.

  --cycles N            measured bind/unbind cycles (default ${DEFAULT_OPTIONS.cycles})
  --warmup N            warm-up cycles before the baseline (default ${DEFAULT_OPTIONS.warmupCycles})
  --concurrency N       requests in flight (default ${DEFAULT_OPTIONS.concurrency})
  --fd-limit N          ulimit -n of warren (default ${DEFAULT_OPTIONS.fdLimit})
  --instances N         instances the cycles spread over (default ${DEFAULT_OPTIONS.instances})
  --pool N              rabbitmq.pool.connections for warren = allowed fd growth (default ${DEFAULT_OPTIONS.poolConnections})
  --amqp-every N        every Nth binding opens an AMQP connection (default ${DEFAULT_OPTIONS.amqpEvery}; 0 = never)
  --fail-every N        one expected failure per N cycles (default ${DEFAULT_OPTIONS.failEvery}; 0 = never)
  --provision-every N   one provision/deprovision cycle per N cycles (default ${DEFAULT_OPTIONS.provisionEvery}; 0 = never)
  --rss-bound-mb N      allowed RSS growth over the post-warm-up RSS (default ${DEFAULT_OPTIONS.rssBoundMb})
  --deadline S          hard deadline in seconds for setup, warm-up and cycles (default ${DEFAULT_OPTIONS.deadlineMs / 1000})
  --entry FILE          TypeScript entry instead of warren serve (e.g. test/soak/leaky-warren.ts)
  --env K=V             extra environment for warren (repeatable), e.g. WARREN_LEAKY_EVERY=10
  --report FILE         write a self-contained HTML report with SVG charts
  --svg FILE            write the main chart as a standalone SVG
  --json FILE           write the full result (with every sample) as JSON
  --retry-known-500     repeat an unbind/deprovision that answered 502 because RabbitMQ answered 500
                        to DELETE /api/connections/username (a known warren bug; see docs/soak.md)
                        instead of failing on it; the count is still reported
  --from-json FILE      run nothing: print the table of an earlier --json result and write its
                        --report/--svg again
  --quiet               no progress lines
  --help                this text
`;

const SOAK_OPTIONS = {
  cycles: { type: 'string' },
  warmup: { type: 'string' },
  concurrency: { type: 'string' },
  'fd-limit': { type: 'string' },
  instances: { type: 'string' },
  pool: { type: 'string' },
  'amqp-every': { type: 'string' },
  'fail-every': { type: 'string' },
  'provision-every': { type: 'string' },
  'rss-bound-mb': { type: 'string' },
  deadline: { type: 'string' },
  entry: { type: 'string' },
  env: { type: 'string', multiple: true },
  report: { type: 'string' },
  svg: { type: 'string' },
  json: { type: 'string' },
  'from-json': { type: 'string' },
  quiet: { type: 'boolean' },
  'retry-known-500': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof SOAK_OPTIONS; strict: true; allowPositionals: false }>>;
  try {
    parsed = parseArgs({
      args: argv,
      options: SOAK_OPTIONS,
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (v['from-json']) {
    // Re-render the table and pictures of an earlier run (no soak is run).
    const saved = JSON.parse(readFileSync(v['from-json'], 'utf8')) as SoakResult;
    process.stdout.write(formatTable(saved) + '\n');
    writeReports(saved, { report: v.report, svg: v.svg });
    return saved.ok ? 0 : 1;
  }
  const opts: Partial<SoakOptions> = {};
  const ints: Array<[keyof typeof v, keyof SoakOptions, number]> = [
    ['cycles', 'cycles', 1],
    ['warmup', 'warmupCycles', 1],
    ['concurrency', 'concurrency', 1],
    ['fd-limit', 'fdLimit', 1],
    ['instances', 'instances', 1],
    ['pool', 'poolConnections', 1],
    ['amqp-every', 'amqpEvery', 1],
    ['fail-every', 'failEvery', 1],
    ['provision-every', 'provisionEvery', 1],
    ['rss-bound-mb', 'rssBoundMb', 1],
    ['deadline', 'deadlineMs', 1000],
  ];
  for (const [flag, key, scale] of ints) {
    const raw = v[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (typeof raw !== 'string' || !Number.isInteger(n) || n < 0) {
      process.stderr.write(`soak: --${flag} needs a whole number >= 0, got ${String(raw)}\n`);
      return 2;
    }
    (opts as Record<string, number>)[key] = n * scale;
  }
  if (v.entry) opts.entry = v.entry;
  if (v.env) {
    const env: Record<string, string> = {};
    for (const kv of v.env) {
      const eq = kv.indexOf('=');
      if (eq < 1) {
        process.stderr.write(`soak: --env needs KEY=VALUE, got ${kv}\n`);
        return 2;
      }
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    opts.env = env;
  }
  if (v['retry-known-500']) opts.retryKnown500 = true;
  if (v.quiet) opts.log = () => undefined;
  let result: SoakResult;
  try {
    result = await runSoak(opts);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    process.stderr.write(`${err.message} (concurrency and instances must be >= 1, fd-limit >= 32)\n`);
    return 2;
  }
  process.stdout.write(formatTable(result) + '\n');
  writeReports(result, { report: v.report, svg: v.svg, json: v.json });
  for (const [flag, file] of [['report', v.report], ['svg', v.svg], ['json', v.json]] as const) {
    if (file) process.stdout.write(`${flag}: ${resolve(file)}\n`);
  }
  return result.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}