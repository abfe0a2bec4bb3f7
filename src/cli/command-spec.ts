// What a `warren <command>` is: its options (a node:util parseArgs table), how the parsed
// values become the command's typed arguments, and what running it does. Adding a command is
// one such object in its own module plus one entry in commands.ts.
import type { OptionTable, OptionValues } from './parse-options.ts';

export interface CommandSpec<Args> {
  /** `warren --help` lists it as "  warren <synopsis>   <summary>". */
  synopsis: string;
  summary: string;
  /** The whole text for `warren <command> --help`. */
  usage: string;
  /** Options besides -h/--help, which every command has. */
  options: OptionTable;
  /** Words after the command that are not options (default 0: any is an error). */
  maxPositionals?: number;
  /** A chance to rewrite argv before parsing (e.g. an option whose value is optional). */
  normalizeArgv?(argv: string[]): string[];
  /** Turns the parsed values into the command's arguments; throws CliUsageError on bad ones. */
  build(values: OptionValues, positionals: string[]): Args;
  /** Runs the command; resolves to the process's exit status. Import heavy modules in here. */
  run(args: Args): Promise<number>;
}

/** Keeps each command's Args type for CliCommand (see parse-cli.ts). */
export function defineCommand<Args>(spec: CommandSpec<Args>): CommandSpec<Args> {
  return spec;
}
