// `warren --help`: the commands (from the table) and the environment a deployment sets.
import { COMMANDS } from './commands.ts';

const ENVIRONMENT = `Configuration: a YAML file (--config FILE or WARREN_CONFIG); without one, a default catalog
against a local RabbitMQ (guest/guest on 127.0.0.1:15672). Environment overrides:
  WARREN_LISTEN            host:port to listen on (default 127.0.0.1:8080)
  WARREN_USERNAME          broker basic-auth username (default warren)
  WARREN_PASSWORD          broker basic-auth password (default: generated once into DATA_DIR/broker-password)
  WARREN_MANAGEMENT_URLS   comma-separated management URLs; userinfo carries the admin account
  WARREN_RABBITMQ_HOSTS    comma-separated hosts apps connect to (default: the management URLs' hosts)
  WARREN_DATA_DIR          where the SQLite store and generated keys live (default ./data)
  WARREN_STORE_URL         postgres://... to keep state in PostgreSQL instead of SQLite
  WARREN_ENCRYPTION_KEY    32-byte key (base64 or hex) for credentials at rest
  WARREN_DEPLOYMENT_ID     this deployment's id on RabbitMQ objects (default: generated once into the store)
  WARREN_ENCRYPTION_KEYS   label=key,label=key (the first is primary): keys for rotation
  WARREN_TLS_CERT_FILE, WARREN_TLS_KEY_FILE   serve HTTPS only, with this certificate
  WARREN_TLS_CLIENT_CA_FILE                   mutual TLS: clients need a certificate this CA signed
  WARREN_LOG_LEVEL         fatal|error|warn|info|debug|trace|silent
SIGHUP (or the --config file changing) reloads the broker password, the RabbitMQ admin account
and the encryption keys without a restart. See README.md for the configuration reference.
`;

export function topLevelHelp(): string {
  const rows: Array<[string, string]> = Object.values(COMMANDS).map((c) => [c.synopsis, c.summary]);
  rows.push(['help [COMMAND]', 'this text, or the help of COMMAND'], ['--version', 'the version']);
  const width = Math.max(...rows.map(([synopsis]) => synopsis.length));
  const lines = rows.map(([synopsis, summary]) => `  warren ${synopsis.padEnd(width)}   ${summary}`);
  return `warren: a multi-tenant RabbitMQ service broker (Open Service Broker API v2.17)

Usage:
${lines.join('\n')}

${ENVIRONMENT}`;
}
