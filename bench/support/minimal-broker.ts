// The minimal broker: the practical ceiling for warren on this machine. A separate Node process
// that takes the OSBAPI bind/unbind requests over HTTP and makes exactly the management calls
// warren's guarantees need, through the client warren uses (undici Pool of 32 sockets,
// keep-alive, every body read), and nothing else: no store, no schema, no auth check, no locks,
// no metrics, no logging. The bench runs it as the "minimal" arm: warren / minimal is the cost of
// warren's own code, minimal / raw the cost of the extra process and HTTP hop.
//   MGMT_ORIGIN=http://127.0.0.1:15672 MGMT_AUTH='Basic ...' node --import tsx bench/support/minimal-broker.ts
// Prints {"listen":"127.0.0.1:PORT"} on stdout when ready. Routes (the instance id is the vhost):
//   PUT    /v2/service_instances/{vhost}/service_bindings/{b}  -> PUT user {b}-mb, PUT permissions
//   DELETE /v2/service_instances/{vhost}/service_bindings/{b}  -> DELETE user, then GET the user's
//          connections (warren's unbind guarantee: none left); a listed connection is closed and
//          looked for again, as warren does.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool } from 'undici';

const origin = process.env.MGMT_ORIGIN ?? 'http://127.0.0.1:15672';
const auth = process.env.MGMT_AUTH ?? 'Basic ' + Buffer.from('guest:guest').toString('base64');
const tags = process.env.USER_TAGS ?? 'management,policymaker';
const perms = JSON.stringify({ configure: '.*', write: '.*', read: '.*' });
const pool = new Pool(origin, { connections: 32, pipelining: 1, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 30_000 });
const headers = { authorization: auth, 'content-type': 'application/json' };
const enc = encodeURIComponent;

async function call(method: 'PUT' | 'DELETE' | 'GET', path: string, ok: number[], body?: string, extra?: Record<string, string>): Promise<string> {
  const res = await pool.request({ method, path, headers: extra ? { ...headers, ...extra } : headers, body });
  const text = await res.body.text();
  if (!ok.includes(res.statusCode)) throw new Error(`${method} ${path} answered ${res.statusCode}: ${text}`);
  return text;
}

/** DELETE /api/users closes the user's connections; the GET confirms none is left (closing any it still lists). */
async function confirmNoConnections(user: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const listed = JSON.parse(await call('GET', `/api/connections/username/${enc(user)}`, [200])) as unknown[];
    if (listed.length === 0) return;
    await call('DELETE', `/api/connections/username/${enc(user)}`, [204], undefined, { 'x-reason': 'binding deleted by the service broker' });
  }
  throw new Error(`user ${user} still has connections`);
}

const ROUTE = /^\/v2\/service_instances\/([^/?]+)\/service_bindings\/([^/?]+)/;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  for await (const _ of req) void _; // read the request body
  const m = ROUTE.exec(req.url ?? '');
  if (!m) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
    return;
  }
  const vhost = decodeURIComponent(m[1]!);
  const user = `${decodeURIComponent(m[2]!)}-mb`;
  if (req.method === 'PUT') {
    const password = randomBytes(24).toString('base64url');
    await call('PUT', `/api/users/${enc(user)}`, [201, 204], JSON.stringify({ password, tags }));
    await call('PUT', `/api/permissions/${enc(vhost)}/${enc(user)}`, [201, 204], perms);
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ credentials: { username: user, password, vhost } }));
  } else if (req.method === 'DELETE') {
    await call('DELETE', `/api/users/${enc(user)}`, [204]);
    await confirmNoConnections(user);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  } else {
    res.writeHead(405, { 'content-type': 'application/json' }).end('{}');
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch((err: Error) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: err.message }));
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address() as { port: number };
  process.stdout.write(JSON.stringify({ listen: `127.0.0.1:${a.port}` }) + '\n');
});
const stop = () => {
  server.close();
  server.closeAllConnections();
  void pool.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
