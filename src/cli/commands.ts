// Every `warren <command>`, in the order `warren --help` lists them.
//
// To add one (say `warren reconcile`): write src/cli/reconcile-command.ts exporting
//   export const reconcileCommand = defineCommand<ReconcileArgs>({ synopsis, summary, usage,
//     options: { 'dry-run': { type: 'boolean' } }, build: (values) => ({...}),
//     run: async (args) => (await import('../somewhere/reconcile.ts')).reconcile(args) });
// and add `reconcile: reconcileCommand,` below. Parsing (strict, "did you mean"), -h/--help,
// the top-level help and the typed CliCommand follow from this table.
import { leaksCommand } from './leaks-command.ts';
import { reconcileCommand } from './reconcile-command.ts';
import { rotateKeysCommand } from './rotate-keys-command.ts';
import { serveCommand } from './serve-command.ts';

export const COMMANDS = {
  serve: serveCommand,
  'rotate-keys': rotateKeysCommand,
  leaks: leaksCommand,
  reconcile: reconcileCommand,
};

export type CommandName = keyof typeof COMMANDS;
