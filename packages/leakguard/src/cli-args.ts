// Argument parsing for the leaks CLI (`leakguard`, or `warren leaks` inside warren); throws
// UsageError with a message fit for stderr.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { compilePeerFilter } from './peer-filter.ts';

export interface LeaksCliOptions {
  help: boolean;
  pid: number | 'self';
  port?: string;
  samples: number;
  intervalMs: number;
  /** Seconds between samples in watch mode; undefined when not watching. */
  watchSeconds?: number;
  count?: number;
  /** Smallest rise over the window that counts as growth. */
  minIncrease?: number;
  json: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const leaksUsage = (name: string): string => `Usage: ${name} --pid <N|self> [options]

Looks for leaked sockets and fds in a running process, from /proc (Linux):
  close-wait  the peer hung up, the process never closed its socket
  stuck-rx    ESTABLISHED with received bytes nobody reads (an unconsumed response body)
  ghost       a socket fd that no /proc/net table lists any more (reset, never closed)
  growth      over 3 samples or more: fds of one kind (socket, file, pipe, anon_inode), or
              sockets to one peer in one state, rising steadily (a stable pool is not growth,
              nor is a burst that drains)

Options:
  --pid N|self       process to inspect (required)
  --port P           only sockets with port P, or address:port P, at either end
  --samples N        samples to take (default 3; stuck-rx needs 2, growth needs 3)
  --interval T       time between those samples: ms, or with a unit (500ms, 2s); default 500ms
  --min-increase N   smallest rise over the window that counts as growth (default 3)
  --watch [SECONDS]  keep sampling every SECONDS (default 2), one line per sample; Ctrl-C stops.
                     Growth is judged over all samples so far (the last 60)
  --count N          with --watch: stop after N samples
  --json             JSON output (with --watch: one object per line)
  -h, --help         show this help

Exit status: 0 no leak found, 1 leaks found, 2 usage error or the process cannot be inspected.
`;

/** "500", "500ms", "2s", "1.5s" → milliseconds. */
function duration(name: string, text: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text ?? '');
  const ms = m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : NaN;
  if (!(ms >= 1)) throw new UsageError(`${name} needs a duration of at least 1 ms (500, 500ms, 2s), got ${text ?? 'nothing'}`);
  return Math.round(ms);
}

function positiveInteger(name: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || value < min) throw new UsageError(`${name} needs an integer ≥ ${min}, got ${text ?? 'nothing'}`);
  return value;
}

/** The options for node:util parseArgs (strict). A host command (warren leaks) may parse with the same table. */
export const LEAKS_OPTIONS = {
  pid: { type: 'string' },
  port: { type: 'string' },
  samples: { type: 'string' },
  interval: { type: 'string' },
  'min-increase': { type: 'string' },
  watch: { type: 'string' },
  count: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const WATCH_DEFAULT_SECONDS = '2';

/** `--watch` takes its seconds optionally: where no number follows it, give it the default. */
export function withWatchDefault(argv: readonly string[]): string[] {
  return argv.flatMap((arg, i) => (arg === '--watch' && !/^\d+(\.\d+)?$/.test(argv[i + 1] ?? '') ? [arg, WATCH_DEFAULT_SECONDS] : [arg]));
}

/** Checks the parsed option values and fills in the defaults. */
export function leaksOptionsFromValues(values: Record<string, unknown>): LeaksCliOptions {
  const text = (name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const options: Partial<LeaksCliOptions> & { help: boolean; json: boolean } = { help: values.help === true, json: values.json === true };
  const pid = text('pid');
  if (pid !== undefined) options.pid = pid === 'self' ? 'self' : positiveInteger('--pid', pid, 1);
  const port = text('port');
  if (port !== undefined) {
    try {
      compilePeerFilter(port);
    } catch (error) {
      throw new UsageError(`--port: ${(error as Error).message}`);
    }
    options.port = port;
  }
  if (text('samples') !== undefined) options.samples = positiveInteger('--samples', text('samples'), 1);
  if (text('interval') !== undefined) options.intervalMs = duration('--interval', text('interval'));
  if (text('min-increase') !== undefined) options.minIncrease = positiveInteger('--min-increase', text('min-increase'), 1);
  if (text('count') !== undefined) options.count = positiveInteger('--count', text('count'), 1);
  const watch = text('watch');
  if (watch !== undefined) {
    options.watchSeconds = Number(watch);
    if (!/^\d+(\.\d+)?$/.test(watch) || options.watchSeconds <= 0) throw new UsageError('--watch needs a positive number of seconds');
  }
  if (options.help) return { samples: 3, intervalMs: 500, pid: 'self', ...options };
  if (options.pid === undefined) throw new UsageError('--pid is required (a number, or "self")');
  if (options.count !== undefined && options.watchSeconds === undefined) throw new UsageError('--count only applies with --watch');
  return { samples: 3, intervalMs: 500, ...options, pid: options.pid };
}

/** Parses the words after `leaks` (strict: unknown options and missing values are errors). */
export function parseLeaksArgs(argv: readonly string[]): LeaksCliOptions {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: withWatchDefault(argv), options: LEAKS_OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    // parseArgs says e.g. "Unknown option '--bogus'. To specify a positional ...": keep the first sentence.
    throw new UsageError((error as Error).message.split('. ')[0] ?? String(error));
  }
  return leaksOptionsFromValues(values);
}
