// `warren serve [--config FILE]`: the broker.
import { defineCommand } from './command-spec.ts';
import { stringOption } from './parse-options.ts';

export interface ServeArgs {
  configFile?: string;
}

export const serveCommand = defineCommand<ServeArgs>({
  synopsis: 'serve [--config FILE]',
  summary: 'start the broker (what `npm start` runs)',
  usage: `Usage: warren serve [--config FILE]

Starts the broker. Configuration: the YAML FILE (or WARREN_CONFIG), then WARREN_* variables
(warren --help lists them). SIGTERM or SIGINT drains in-flight requests and exits 0.

Options:
  --config FILE   the configuration file (default: WARREN_CONFIG, else built-in defaults)
  -h, --help      show this help
`,
  options: { config: { type: 'string' } },
  build: (values) => {
    const configFile = stringOption(values, 'config');
    return configFile === undefined ? {} : { configFile };
  },
  run: async (args) => (await import('./serve.ts')).serve(args),
});
