// `warren <command>`: parse (parse-cli.ts), then print help, the version or a usage error, or
// run the command from the table (commands.ts).
import { readFileSync } from 'node:fs';
import type { CommandSpec } from './command-spec.ts';
import { COMMANDS } from './commands.ts';
import { parseCli } from './parse-cli.ts';

function version(): string {
  // warren's package.json: ../../ from src/cli/ (tsx), ../../../ from dist/src/cli/ (the build).
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'warren') return pkg.version;
    } catch {
      // not there: try one level up
    }
  }
  return 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  const command = parseCli(argv);
  switch (command.kind) {
    case 'help':
      process.stdout.write(command.text);
      return command.exitCode;
    case 'version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'usage-error':
      process.stderr.write(`${command.message.startsWith('warren') ? '' : 'warren: '}${command.message}\n\n${command.usage}`);
      return 2;
    case 'run': {
      // parseCli built args with this very spec: the pairing holds.
      const spec = COMMANDS[command.name] as CommandSpec<typeof command.args>;
      return spec.run(command.args);
    }
  }
}
