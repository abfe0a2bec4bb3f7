// `warren <command>`: parse (parse-cli.ts), then print help, the version or a usage error, or
// run the command from the table (commands.ts).
import { readFileSync } from 'node:fs';
import type { CommandSpec } from './command-spec.ts';
import { COMMANDS } from './commands.ts';
import { parseCli } from './parse-cli.ts';

function version(): string {
  // ../../package.json from both src/cli/ (tsx) and dist/cli/ (the build).
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
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
