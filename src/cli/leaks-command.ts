// `warren leaks`: the leak guard's CLI (packages/leakguard, which imports nothing from warren).
// Its options and their checks live there; here they get warren's strict parsing and messages.
import {
  LEAKS_OPTIONS,
  UsageError,
  leaksOptionsFromValues,
  leaksUsage,
  withWatchDefault,
  type LeaksCliOptions,
} from '../../packages/leakguard/src/cli-args.ts';
import { defineCommand } from './command-spec.ts';
import { CliUsageError } from './parse-options.ts';

export const leaksCommand = defineCommand<LeaksCliOptions>({
  synopsis: 'leaks --pid N|self ...',
  summary: 'report leaked sockets and fds of a process, growth included (warren leaks --help)',
  usage: leaksUsage('warren leaks'),
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
  run: async (options) => (await import('../../packages/leakguard/src/cli.ts')).runLeaks(options, undefined, 'warren leaks'),
});
