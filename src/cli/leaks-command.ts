// `warren leaks`: the leak guard's CLI. Its options and their checks live in src/leakguard
// (which imports nothing from warren); here they get warren's strict parsing and messages.
import { LEAKS_OPTIONS, LEAKS_USAGE, UsageError, leaksOptionsFromValues, withWatchDefault, type LeaksCliOptions } from '../leakguard/cli-args.ts';
import { defineCommand } from './command-spec.ts';
import { CliUsageError } from './parse-options.ts';

export const leaksCommand = defineCommand<LeaksCliOptions>({
  synopsis: 'leaks --pid N|self ...',
  summary: 'report leaked sockets and fds of a process (warren leaks --help)',
  usage: LEAKS_USAGE,
  options: LEAKS_OPTIONS,
  normalizeArgv: withWatchDefault,
  build: (values) => {
    try {
      return leaksOptionsFromValues(values);
    } catch (error) {
      if (error instanceof UsageError) throw new CliUsageError(error.message);
      throw error;
    }
  },
  run: async (options) => (await import('../leakguard/cli.ts')).runLeaks(options),
});
