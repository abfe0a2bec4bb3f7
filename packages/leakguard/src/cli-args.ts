// Argument parsing for the leaks CLI (`leakguard`, or `warren leaks` inside warren); throws
// UsageError with a message fit for stderr.
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

export function parseLeaksArgs(argv: readonly string[]): LeaksCliOptions {
  const options: Partial<LeaksCliOptions> & { help: boolean; json: boolean } = { help: false, json: false };
  const args = argv.flatMap((a) => (a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a]));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const value = (): string | undefined => args[++i];
    switch (arg) {
      case '-h':
      case '--help':
        options.help = true;
        break;
      case '--json':
        options.json = true;
        break;
      case '--pid': {
        const text = value();
        options.pid = text === 'self' ? 'self' : positiveInteger('--pid', text, 1);
        break;
      }
      case '--port': {
        const text = value();
        if (text === undefined) throw new UsageError('--port needs a port or address:port');
        try {
          compilePeerFilter(text);
        } catch (error) {
          throw new UsageError(`--port: ${(error as Error).message}`);
        }
        options.port = text;
        break;
      }
      case '--samples':
        options.samples = positiveInteger('--samples', value(), 1);
        break;
      case '--interval':
        options.intervalMs = duration('--interval', value());
        break;
      case '--min-increase':
        options.minIncrease = positiveInteger('--min-increase', value(), 1);
        break;
      case '--count':
        options.count = positiveInteger('--count', value(), 1);
        break;
      case '--watch': {
        // The seconds are optional: take the next word only if it is a number.
        const next = args[i + 1];
        if (next !== undefined && /^\d+(\.\d+)?$/.test(next)) {
          options.watchSeconds = Number(next);
          i++;
          if (options.watchSeconds <= 0) throw new UsageError('--watch needs a positive number of seconds');
        } else {
          options.watchSeconds = 2;
        }
        break;
      }
      default:
        throw new UsageError(`unknown argument: ${arg}`);
    }
  }
  if (options.help) return { samples: 3, intervalMs: 500, pid: 'self', ...options };
  if (options.pid === undefined) throw new UsageError('--pid is required (a number, or "self")');
  if (options.count !== undefined && options.watchSeconds === undefined) throw new UsageError('--count only applies with --watch');
  return { samples: 3, intervalMs: 500, ...options, pid: options.pid };
}
