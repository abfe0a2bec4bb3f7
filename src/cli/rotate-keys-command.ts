// `warren rotate-keys [--config FILE] [--batch-size N]`: re-encrypt stored credentials with the primary key.
import { defineCommand } from './command-spec.ts';
import { CliUsageError, stringOption } from './parse-options.ts';

export interface RotateKeysArgs {
  configFile?: string;
  batchSize?: number;
}

export const rotateKeysCommand = defineCommand<RotateKeysArgs>({
  synopsis: 'rotate-keys [--config FILE] [--batch-size N]',
  summary: 're-encrypt stored credentials with the primary key (the server may run)',
  usage: `Usage: warren rotate-keys [--config FILE] [--batch-size N]

Re-encrypts every stored binding's credentials with the primary encryption key, in batches,
beside a running warren (each row is replaced only if it still holds what was read). Run it after
the server has loaded the new primary (SIGHUP or its configuration file changing); drop the old
keys once a second run finds nothing to do. Exit 0: all sealed with the primary; 1: some could
not be opened; 2: bad configuration.

Options:
  --config FILE     the configuration file (default: WARREN_CONFIG, else built-in defaults)
  --batch-size N    rows per batch (default 100)
  -h, --help        show this help
`,
  options: { config: { type: 'string' }, 'batch-size': { type: 'string' } },
  build: (values) => {
    const args: RotateKeysArgs = {};
    const configFile = stringOption(values, 'config');
    if (configFile !== undefined) args.configFile = configFile;
    const batch = stringOption(values, 'batch-size');
    if (batch !== undefined) {
      const n = Number(batch);
      if (!Number.isInteger(n) || n < 1) throw new CliUsageError(`--batch-size must be a whole number above 0, got "${batch}"`);
      args.batchSize = n;
    }
    return args;
  },
  run: async (args) => (await import('./rotate-keys.ts')).rotateKeys(args),
});
