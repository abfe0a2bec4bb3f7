// `warren <command> [options]` → a typed command, without side effects (tests call it directly).
import type { CommandSpec } from './command-spec.ts';
import { COMMANDS, type CommandName } from './commands.ts';
import { didYouMean } from '../config/did-you-mean.ts';
import { topLevelHelp } from './help-text.ts';
import { CliUsageError, parseOptions } from './parse-options.ts';

type ArgsOf<C> = C extends CommandSpec<infer Args> ? Args : never;

export type RunCommand = { [K in CommandName]: { kind: 'run'; name: K; args: ArgsOf<(typeof COMMANDS)[K]> } }[CommandName];

export type CliCommand =
  | RunCommand
  /** exitCode 2 when help stands in for a missing command. */
  | { kind: 'help'; text: string; exitCode: 0 | 2 }
  | { kind: 'version' }
  /** `message` says what is wrong; `usage` is the help of the command it concerns. */
  | { kind: 'usage-error'; message: string; usage: string };

const isCommandName = (word: string): word is CommandName => Object.hasOwn(COMMANDS, word);

export function parseCli(argv: readonly string[]): CliCommand {
  const [word, ...rest] = argv;
  switch (word) {
    case undefined:
      return { kind: 'help', text: topLevelHelp(), exitCode: 2 };
    case '-h':
    case '--help':
      return { kind: 'help', text: topLevelHelp(), exitCode: 0 };
    case 'help': {
      const topic = rest[0];
      if (topic === undefined) return { kind: 'help', text: topLevelHelp(), exitCode: 0 };
      if (isCommandName(topic)) return { kind: 'help', text: COMMANDS[topic].usage, exitCode: 0 };
      return unknownCommand(topic);
    }
    case '-v':
    case '--version':
    case 'version':
      return { kind: 'version' };
  }
  if (!isCommandName(word)) return unknownCommand(word);
  return parseCommand(word, rest);
}

function unknownCommand(word: string): CliCommand {
  const what = word.startsWith('-') ? `unknown option ${word}` : `unknown command "${word}"`;
  const known = [...Object.keys(COMMANDS), 'help', ...(word.startsWith('-') ? ['--help', '--version'] : [])];
  return { kind: 'usage-error', message: `${what}${didYouMean(word, known)}`, usage: topLevelHelp() };
}

function parseCommand<K extends CommandName>(name: K, argv: string[]): CliCommand {
  const spec = COMMANDS[name] as CommandSpec<ArgsOf<(typeof COMMANDS)[K]>>;
  try {
    const { values, positionals } = parseOptions(spec.normalizeArgv?.(argv) ?? argv, spec.options, spec.maxPositionals ?? 0);
    if (values.help === true) return { kind: 'help', text: spec.usage, exitCode: 0 };
    return { kind: 'run', name, args: spec.build(values, positionals) } as RunCommand;
  } catch (error) {
    if (error instanceof CliUsageError) return { kind: 'usage-error', message: `warren ${name}: ${error.message}`, usage: spec.usage };
    throw error;
  }
}
