// The 3-node test cluster of scripts/cluster-up.sh: its nodes, ports, and the few things the
// cluster tests do to a node (stop and start its RabbitMQ application) — only to these nodes,
// never to the machine's own rabbit@localhost.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { request } from 'undici';

const run = promisify(execFile);

export interface ClusterNode {
  /** Erlang node name, e.g. warren-c1@localhost */
  name: string;
  amqpPort: number;
  mgmtPort: number;
  mgmtUrl: string;
}

export const CLUSTER: ClusterNode[] = [1, 2, 3].map((i) => ({
  name: `warren-c${i}@localhost`,
  amqpPort: 5700 + i,
  mgmtPort: 15700 + i,
  mgmtUrl: `http://127.0.0.1:${15700 + i}`,
}));

export const CLUSTER_ADMIN = { username: 'guest', password: 'guest' };
const AUTH = 'Basic ' + Buffer.from(`${CLUSTER_ADMIN.username}:${CLUSTER_ADMIN.password}`).toString('base64');

/** GET on a node's management API with the admin account; the body is always read. */
export async function adminGet(node: ClusterNode, path: string, timeoutMs = 3000): Promise<{ status: number; body: unknown }> {
  const res = await request(`${node.mgmtUrl}${path}`, { headers: { authorization: AUTH }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const text = await res.body.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.statusCode, body };
}

/** true when every node answers and c1 sees all three running in one cluster. */
export async function clusterIsUp(): Promise<boolean> {
  try {
    for (const n of CLUSTER) if ((await adminGet(n, '/api/overview')).status !== 200) return false;
    const nodes = (await adminGet(CLUSTER[0]!, '/api/nodes?columns=name,running')).body as Array<{ name: string; running: boolean }>;
    return CLUSTER.every((c) => nodes.some((n) => n.name === c.name && n.running));
  } catch {
    return false;
  }
}

async function rabbitmqctl(node: ClusterNode, ...args: string[]): Promise<void> {
  await run('rabbitmqctl', ['-q', '-n', node.name, ...args], { timeout: 60_000 });
}

/** Stops the node's RabbitMQ application (its listeners close; the Erlang node stays). */
export async function stopApp(node: ClusterNode): Promise<void> {
  await rabbitmqctl(node, 'stop_app');
}

/** Starts it again and waits until its management API answers. */
export async function startApp(node: ClusterNode): Promise<void> {
  await rabbitmqctl(node, 'start_app');
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    try {
      if ((await adminGet(node, '/api/overview')).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${node.name}: management API did not answer within 60 s of start_app`);
}
