// A RabbitMQ node of the test's own with TLS listeners (AMQPS and management HTTPS) beside plain
// ones, certificates from a CA made at test time. Started and stopped by its node name; the
// machine's own node (rabbit@localhost) is never touched. Ports and names are this test's.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestCa, type TestCa } from './test-ca.ts';

const run = promisify(execFile);

export const TLS_NODE = {
  name: 'warren-tls@localhost',
  dir: '/tmp/warren-tls-node',
  amqpPort: 5741,
  amqpsPort: 5742,
  httpPort: 15741,
  httpsPort: 15742,
  distPort: 25741,
} as const;

export interface TlsRabbitNode {
  ca: TestCa;
  /** https://127.0.0.1:15742, management over TLS (guest/guest works: loopback_users = none). */
  httpsUrl: string;
  stop(): Promise<void>;
}

/** Why a TLS node cannot be had here, or undefined when RabbitMQ is installed. */
export function rabbitMissing(): string | undefined {
  for (const bin of ['rabbitmq-server', 'rabbitmqctl']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `RabbitMQ is not installed (${bin} not found): the TLS node test needs rabbitmq-server`;
    }
  }
  return undefined;
}

const ctl = (args: string[], timeoutMs: number) =>
  run('rabbitmqctl', ['-n', TLS_NODE.name, ...args], { timeout: timeoutMs, env: process.env });

function config(ca: TestCa, cert: { certFile: string; keyFile: string }): string {
  const n = TLS_NODE;
  return [
    `listeners.tcp.1 = 127.0.0.1:${n.amqpPort}`,
    `listeners.ssl.1 = 127.0.0.1:${n.amqpsPort}`,
    `ssl_options.cacertfile = ${ca.caFile}`,
    `ssl_options.certfile = ${cert.certFile}`,
    `ssl_options.keyfile = ${cert.keyFile}`,
    'ssl_options.verify = verify_none',
    'ssl_options.fail_if_no_peer_cert = false',
    'management.tcp.ip = 127.0.0.1',
    `management.tcp.port = ${n.httpPort}`,
    'management.ssl.ip = 127.0.0.1',
    `management.ssl.port = ${n.httpsPort}`,
    `management.ssl.cacertfile = ${ca.caFile}`,
    `management.ssl.certfile = ${cert.certFile}`,
    `management.ssl.keyfile = ${cert.keyFile}`,
    'loopback_users = none',
    '',
  ].join('\n');
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, uid, gid);
    else chownSync(p, uid, gid);
  }
}

/** Stops a node left over by an earlier run (same name), waiting a bounded time. */
async function stopLeftover(): Promise<void> {
  try {
    await ctl(['stop'], 15_000);
  } catch {
    // not running: the usual case
  }
}

/** Starts the node; resolves once it has booted (bounded by `timeoutMs`, default 30 s). */
export async function startTlsRabbitNode(opts: { timeoutMs?: number } = {}): Promise<TlsRabbitNode> {
  const n = TLS_NODE;
  await stopLeftover();
  rmSync(n.dir, { recursive: true, force: true });
  mkdirSync(n.dir, { recursive: true });
  const ca = createTestCa(join(n.dir, 'certs'), 'warren TLS node test CA');
  const cert = ca.issue('rabbit-server');
  writeFileSync(join(n.dir, 'rabbitmq.conf'), config(ca, cert));
  writeFileSync(join(n.dir, 'enabled_plugins'), '[rabbitmq_management].\n');
  mkdirSync(join(n.dir, 'mnesia'));
  mkdirSync(join(n.dir, 'log'));
  // Run as root, the server scripts drop to the rabbitmq user: it must own the folder.
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'rabbitmq']).toString().trim());
    try {
      chownTree(n.dir, id('-u'), id('-g'));
    } catch {
      // no rabbitmq user: the server runs as root
    }
  }
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: n.name,
    RABBITMQ_DIST_PORT: String(n.distPort),
    RABBITMQ_CONFIG_FILE: join(n.dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(n.dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(n.dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(n.dir, 'log'),
    RABBITMQ_PID_FILE: join(n.dir, 'pid'),
  };
  const timeoutMs = opts.timeoutMs ?? 30_000;
  await run('rabbitmq-server', ['-detached'], { env, timeout: 10_000 });
  const stop = async () => {
    await ctl(['stop'], 20_000).catch(() => {});
    rmSync(n.dir, { recursive: true, force: true });
  };
  try {
    // `wait` first waits for the pid file (the node registers a moment after -detached returns).
    await ctl(['wait', join(n.dir, 'pid'), '--timeout', String(Math.ceil(timeoutMs / 1000))], timeoutMs + 5000);
  } catch (err) {
    const logDir = join(n.dir, 'log');
    const logs = existsSync(logDir) ? readdirSync(logDir).join(', ') : 'none';
    await stop();
    throw new Error(`the TLS RabbitMQ node ${n.name} did not start within ${timeoutMs} ms (logs: ${logs}): ${(err as Error).message}`);
  }
  return { ca, httpsUrl: `https://127.0.0.1:${n.httpsPort}`, stop };
}
