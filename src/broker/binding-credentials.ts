// The credentials JSON of a binding, in the shape apps already parse from the Go multitenant
// broker: top-level uri/uris/hostname(s)/vhost/username/password/ssl/http_api_uri(s)/dashboard_url
// and a `protocols` map. Every URI percent-encodes user, password and vhost; every configured host
// is listed; a +ssl entry exists only where the cluster really offers TLS, and says so.
// Beside it, the flat string keys of a servicebinding.io binding (type, provider, host, port,
// addresses, tls_*): Korifi and Crossplane's OSB provider project each key into a file under
// $SERVICE_BINDING_ROOT/<name>/, where nested values are awkward to read.
import type { ProtocolName } from '../config/config-types.ts';
import { type ManagementUrl, parseManagementUrl } from '../rabbitmq/management-url.ts';
import type { ProtocolPorts } from './cluster-protocols.ts';

export interface CredentialInputs {
  username: string;
  password: string;
  vhost: string;
  hosts: string[];
  /** Management base URLs apps may use (no credentials, no trailing slash). */
  managementUrls: string[];
  ports: ProtocolPorts;
  preferTls: boolean;
}

const enc = encodeURIComponent;
const hostPart = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

interface Block {
  host: string;
  hosts: string[];
  port: number;
  ssl: boolean;
  username: string;
  password: string;
  uri: string;
  uris: string[];
  vhost?: string;
  path?: string;
}

function block(hosts: string[], port: number, ssl: boolean, username: string, password: string, uriFor: (host: string) => string, extra: Partial<Block> = {}): Block {
  const uris = hosts.map(uriFor);
  return { host: hosts[0]!, hosts, port, ssl, username, password, uri: uris[0]!, uris, ...extra };
}

// The configured URLs do not change: parse them once, not on every bind.
const parsedTargets = new Map<string, ManagementUrl[]>();
function managementTargets(urls: string[]): ManagementUrl[] {
  const key = urls.join('\n');
  let parsed = parsedTargets.get(key);
  if (!parsed) {
    parsed = urls.map((raw, i) => parseManagementUrl(raw, `public management URL #${i + 1}`));
    parsedTargets.set(key, parsed);
  }
  return parsed;
}

/** The servicebinding.io keys: strings only; host/port/addresses describe the same listener as `uri`. */
function serviceBindingKeys(main: Block | undefined, tls: Block | undefined): Record<string, string> {
  return {
    type: 'rabbitmq',
    provider: 'warren',
    ...(main ? { host: main.host, port: String(main.port), addresses: main.hosts.map((h) => `${hostPart(h)}:${main.port}`).join(',') } : {}),
    ...(tls ? { tls_port: String(tls.port), tls_addresses: tls.hosts.map((h) => `${hostPart(h)}:${tls.port}`).join(','), tls_uri: tls.uri } : {}),
  };
}

export function bindingCredentials(c: CredentialInputs): Record<string, unknown> {
  const userinfo = `${enc(c.username)}:${enc(c.password)}`;
  const vhostPath = enc(c.vhost);
  const protocols: Record<string, Block> = {};
  const p = c.ports;

  const amqp = (name: ProtocolName, scheme: string, ssl: boolean) => {
    const port = p[name];
    if (port === undefined) return;
    protocols[name] = block(c.hosts, port, ssl, c.username, c.password, (h) => `${scheme}://${userinfo}@${hostPart(h)}:${port}/${vhostPath}`, { vhost: c.vhost });
  };
  amqp('amqp', 'amqp', false);
  amqp('amqp+ssl', 'amqps', true);

  // RabbitMQ's MQTT plugin takes the vhost as "vhost:user" in the username.
  const mqttUser = `${c.vhost}:${c.username}`;
  for (const [name, scheme, ssl] of [['mqtt', 'mqtt', false], ['mqtt+ssl', 'mqtts', true]] as const) {
    const port = p[name];
    if (port === undefined) continue;
    protocols[name] = block(c.hosts, port, ssl, mqttUser, c.password, (h) => `${scheme}://${enc(mqttUser)}:${enc(c.password)}@${hostPart(h)}:${port}`);
  }
  for (const [name, scheme, ssl] of [['stomp', 'stomp', false], ['stomp+ssl', 'stomp+ssl', true]] as const) {
    const port = p[name];
    if (port === undefined) continue;
    protocols[name] = block(c.hosts, port, ssl, c.username, c.password, (h) => `${scheme}://${userinfo}@${hostPart(h)}:${port}`, { vhost: c.vhost });
  }

  // Management: the public management URLs decide scheme, host and port.
  const targets = managementTargets(c.managementUrls);
  const apiUris = targets.map((t) => `${t.protocol}//${userinfo}@${t.hostPort}${t.pathPrefix}/api/`);
  const first = targets[0];
  if (first) {
    const hosts = targets.map((t) => t.host);
    protocols[first.tls ? 'management+ssl' : 'management'] = {
      host: hosts[0]!, hosts, port: first.port, ssl: first.tls, username: c.username, password: c.password,
      path: '/api/', uri: apiUris[0]!, uris: apiUris,
    };
  }

  const main = (c.preferTls && protocols['amqp+ssl']) || protocols.amqp || protocols['amqp+ssl'];
  return {
    ...serviceBindingKeys(main, protocols['amqp+ssl']),
    ...(first ? { dashboard_url: `${first.base}/` } : {}),
    hostname: c.hosts[0],
    hostnames: c.hosts,
    username: c.username,
    password: c.password,
    vhost: c.vhost,
    ssl: main?.ssl ?? false,
    ...(main ? { uri: main.uri, uris: main.uris } : {}),
    ...(apiUris.length ? { http_api_uri: apiUris[0], http_api_uris: apiUris } : {}),
    protocols,
  };
}
