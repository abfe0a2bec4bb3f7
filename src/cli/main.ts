// `warren <command>`: serve (the broker), leaks (the leak guard's CLI), help.
import { readFileSync } from 'node:fs';

const HELP = `warren: a multi-tenant RabbitMQ service broker (Open Service Broker API v2.17)

Usage:
  warren serve [--config FILE]   start the broker (what \`npm start\` runs)
  warren leaks --pid N|self ...  report leaked sockets and fds of a process (warren leaks --help)
  warren reconcile [--fix] ...   compare the store with RabbitMQ, repair drift, adopt (warren reconcile --help)
  warren --help                  this text
  warren --version               the version

Configuration: a YAML file (--config FILE or WARREN_CONFIG); without one, a default catalog
against a local RabbitMQ (guest/guest on 127.0.0.1:15672). Environment overrides:
  WARREN_LISTEN            host:port to listen on (default 127.0.0.1:8080)
  WARREN_USERNAME          broker basic-auth username (default warren)
  WARREN_PASSWORD          broker basic-auth password (default: generated once into DATA_DIR/broker-password)
  WARREN_MANAGEMENT_URLS   comma-separated management URLs; userinfo carries the admin account
  WARREN_DATA_DIR          where the SQLite store and generated keys live (default ./data)
  WARREN_STORE_URL         postgres://... to keep state in PostgreSQL instead of SQLite
  WARREN_ENCRYPTION_KEY    32-byte key (base64 or hex) for credentials at rest
  WARREN_DEPLOYMENT_ID     this deployment's id on RabbitMQ objects (default: generated once into the store)
  WARREN_LOG_LEVEL         fatal|error|warn|info|debug|trace|silent
See README.md for the configuration reference.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function optionValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    case '--version':
    case 'version':
      process.stdout.write(version() + '\n');
      return 0;
    case 'serve': {
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(HELP);
        return 0;
      }
      const unknown = rest.filter((a, i) => a.startsWith('-') && !a.startsWith('--config') && rest[i - 1] !== '--config');
      if (unknown.length > 0) {
        process.stderr.write(`warren serve: unknown option ${unknown[0]}\n`);
        return 2;
      }
      const { serve } = await import('./serve.ts');
      return serve({ configFile: optionValue(rest, '--config') });
    }
    case 'reconcile': {
      const { parseReconcileArgs, runReconcileCli } = await import('./reconcile.ts');
      let options;
      try {
        options = parseReconcileArgs(rest);
      } catch (err) {
        process.stderr.write(`warren reconcile: ${(err as Error).message}\n`);
        return 2;
      }
      return runReconcileCli(options);
    }
    case 'leaks': {
      const { runLeaksCli } = await import('../leakguard/cli.ts');
      return runLeaksCli(rest);
    }
    default:
      process.stderr.write(`warren: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}
