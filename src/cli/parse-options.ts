// One command's options through node:util parseArgs in strict mode. A first, lenient pass over
// the tokens finds the first mistake and names it in words a user can act on (with "did you
// mean"); the strict pass then is the one whose result is used.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { didYouMean } from '../config/did-you-mean.ts';

export type OptionTable = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

/** Every command understands -h/--help; the tables need not list it. */
const HELP_OPTION: OptionTable = { help: { type: 'boolean', short: 'h' } };

function firstMistake(argv: string[], options: OptionTable, maxPositionals: number): string | undefined {
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const names = Object.keys(options).map((name) => `--${name}`);
  let positionals = 0;
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals++;
      if (positionals > maxPositionals) return `unexpected argument "${token.value}"`;
      continue;
    }
    if (token.kind !== 'option') continue; // the "--" terminator
    const spec = options[token.name];
    if (spec === undefined) return `unknown option ${token.rawName}${didYouMean(`--${token.name}`, names)}`;
    if (spec.type === 'boolean' && token.inlineValue) return `${token.rawName} takes no value`;
    if (spec.type === 'string') {
      if (token.value === undefined) return `${token.rawName} needs a value`;
      // `--config --json`: an option where the value should be; `--config=--json` says it is meant.
      if (!token.inlineValue && token.value.startsWith('-')) return `${token.rawName} needs a value (got the option ${token.value})`;
    }
  }
  return undefined;
}

/** Parses `argv` (the words after the command) strictly; throws CliUsageError with a clear reason. */
export function parseOptions(argv: string[], table: OptionTable, maxPositionals = 0): { values: OptionValues; positionals: string[] } {
  const options = { ...HELP_OPTION, ...table };
  // With --help anywhere, the rest need not make sense: the user asked how it does.
  const help = parseArgs({ args: argv, options, strict: false, allowPositionals: true }).values.help === true;
  if (help) return { values: { help: true }, positionals: [] };
  const mistake = firstMistake(argv, options, maxPositionals);
  if (mistake !== undefined) throw new CliUsageError(mistake);
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: maxPositionals > 0 });
    return { values: values as OptionValues, positionals };
  } catch (error) {
    throw new CliUsageError((error as Error).message.split('\n')[0] ?? String(error));
  }
}

/** The value of a string option, or undefined when not given. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}
