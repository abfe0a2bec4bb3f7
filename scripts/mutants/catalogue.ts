// The leak mutants: realistic one- or two-line mistakes that leak a socket, an fd or a pool
// slot, each a search/replace on a small snippet of the code. `npm run test:mutants` applies
// them one at a time to a copy of the tree and runs the named tests; every one must fail.
// A snippet that is no longer found (or found twice) is an error, not a skip: update the entry
// when the code moves on.
//
// Not in the catalogue, because it is an equivalent mutant today: dropping the funnel's final
// `body.destroy()` alone. Every path consumes or destroys its body before the finally (dump,
// bounded read, undici destroying on errors), so the destroy is a safety net; the mutants
// below that drop it also break a path, which is when the net matters.

export interface Edit {
  /** Exact text, found exactly once in the file. */
  search: string;
  replace: string;
}

export interface Mutant {
  id: string;
  /** What a developer would have done, in a few words. */
  what: string;
  file: string;
  edits: Edit[];
  /** Test files (from the repository root) that must fail with the mutant applied. */
  tests: string[];
  /** Only these tests (node --test-name-pattern), to keep a run short. */
  pattern?: string;
  /** Part of the fast subset that CI runs. */
  fast?: boolean;
}

const FUNNEL = 'src/rabbitmq/request-funnel.ts';
const CLIENT = 'src/rabbitmq/client.ts';
const UNBIND = 'src/broker/binding-user-removal.ts';
const ANSWERS = 'test/rabbitmq/answer-paths.test.ts';
const BOUND = 'test/resilience/management-socket-bound.test.ts';
const STORE = 'test/store/store-fds.test.ts';

/** The body reference every exchange takes; insertions after it run before the try/finally. */
const AFTER_BODY = (code: string): Edit => ({ search: 'const body = res.body;', replace: `const body = res.body;\n    ${code}` });
const DROP_FINAL_DESTROY: Edit = { search: 'if (!body.destroyed) body.destroy();', replace: '' };
const ACCEPTED = 'return { ok: true, value: parse ? parse({ status }) : { status } };';

export const MUTANTS: Mutant[] = [
  // --- the body skipped on one path, out of the final destroy's reach (an early return) ---
  {
    id: 'skip-body-404',
    what: 'a 404 the caller accepts returns before its body is touched',
    file: FUNNEL,
    edits: [AFTER_BODY(`if (status === 404 && req.ok.includes(404)) ${ACCEPTED}`)],
    tests: [ANSWERS],
    pattern: '404',
    fast: true,
  },
  {
    id: 'skip-body-503-before-failover',
    what: 'a 503 fails over at once, its body left behind',
    file: FUNNEL,
    edits: [AFTER_BODY("if (status === 503) return { ok: false, error: new ManagementTransportError('HTTP_503', 'node answered 503', this.where(node, req), { status }) };")],
    tests: [ANSWERS],
    pattern: '503',
    fast: true,
  },
  {
    id: 'skip-body-delete',
    what: 'DELETE answers are accepted by status alone',
    file: FUNNEL,
    edits: [AFTER_BODY(`if (req.method === 'DELETE' && req.ok.includes(status)) ${ACCEPTED}`)],
    tests: [ANSWERS],
    pattern: 'DELETE',
  },
  {
    id: 'skip-body-non-json-2xx',
    what: 'a 2xx that is not JSON (by its content-type) is refused without reading it',
    file: FUNNEL,
    edits: [
      AFTER_BODY(
        "if (req.read === 'json' && !String(res.headers['content-type']).includes('json')) throw new ManagementProtocolError('response body is not valid JSON', status, this.where(node, req));",
      ),
    ],
    tests: [ANSWERS],
    pattern: 'non-JSON',
  },
  {
    id: 'skip-body-2xx-dump',
    what: 'a 2xx whose body nobody needs is not dumped',
    file: FUNNEL,
    edits: [AFTER_BODY(`if (req.read === 'dump' && status >= 200 && status < 300 && req.ok.includes(status)) ${ACCEPTED}`)],
    tests: [ANSWERS],
    pattern: 'nobody needs',
  },
  {
    id: 'skip-error-body-409',
    what: 'a 409 is thrown typed before its error body is read',
    file: FUNNEL,
    edits: [AFTER_BODY("if (status === 409) throw new ManagementError(409, 'conflict', '', this.where(node, req));")],
    tests: [ANSWERS],
    pattern: '409',
  },
  // --- the body skipped on one path, and the final destroy dropped ---
  {
    id: 'skip-404-dump-no-final-destroy',
    what: 'accepted 404s are not dumped, and the final destroy is gone',
    file: FUNNEL,
    edits: [{ search: '} else {\n          await dumpBody(body);', replace: '} else if (status !== 404) {\n          await dumpBody(body);' }, DROP_FINAL_DESTROY],
    tests: [ANSWERS],
    pattern: '404',
    fast: true,
  },
  {
    id: 'skip-503-dump-no-final-destroy',
    what: '503 bodies are not dumped before the failover, and the final destroy is gone',
    file: FUNNEL,
    edits: [{ search: "outcome = 'unavailable_status';\n        await dumpBody(body);", replace: "outcome = 'unavailable_status';" }, DROP_FINAL_DESTROY],
    tests: [ANSWERS],
    pattern: '503',
  },
  {
    id: 'skip-error-body-no-final-destroy',
    what: 'error bodies are not read for their reason, and the final destroy is gone',
    file: FUNNEL,
    edits: [
      {
        search: "await readBodyText(body, res.headers['content-length'], this.o.maxErrorBodyBytes);",
        replace: "{ text: '', bytes: 0 };",
      },
      DROP_FINAL_DESTROY,
    ],
    tests: [ANSWERS],
    pattern: '409',
  },
  {
    id: 'skip-dump-no-final-destroy',
    what: 'no accepted body is dumped (2xx dump-mode, 404), and the final destroy is gone',
    file: FUNNEL,
    edits: [{ search: '} else {\n          await dumpBody(body);', replace: '} else {' }, DROP_FINAL_DESTROY],
    tests: [ANSWERS],
    pattern: 'nobody needs|DELETE answered 200',
  },
  {
    id: 'probe-skips-body',
    what: "the health probe never reads or destroys /api/whoami's body",
    file: FUNNEL,
    edits: [
      { search: 'await dumpBody(res.body);', replace: '' },
      { search: 'if (!res.body.destroyed) res.body.destroy();', replace: '' },
    ],
    tests: [ANSWERS],
    pattern: 'timed out|truncated',
  },
  // --- fds and sockets opened per call ---
  {
    id: 'fd-per-call',
    what: 'each management call opens a file and never closes it',
    file: FUNNEL,
    edits: [{ search: 'this.calls[req.method]++;', replace: "this.calls[req.method]++;\n    process.getBuiltinModule('node:fs').openSync('/dev/null', 'r');" }],
    tests: [ANSWERS],
    pattern: 'read as JSON',
    fast: true,
  },
  {
    id: 'file-every-50ms',
    what: 'the client opens a file every 50 ms for as long as it lives',
    file: FUNNEL,
    edits: [
      {
        search: 'this.names = targets.map((t) => t.name);',
        replace: "this.names = targets.map((t) => t.name);\n    setInterval(() => process.getBuiltinModule('node:fs').openSync('/dev/null', 'r'), 50).unref();",
      },
    ],
    tests: [ANSWERS],
    pattern: 'read as JSON',
    fast: true,
  },
  {
    id: 'pool-per-request',
    what: 'a new undici Pool for every request',
    file: FUNNEL,
    edits: [{ search: '\n      res = await node.pool.request({', replace: '\n      res = await new Pool(node.target.origin, { connections: 1 }).request({' }],
    tests: [ANSWERS],
    pattern: 'read as JSON',
    fast: true,
  },
  {
    id: 'keep-alive-agent-per-request',
    what: 'a new keep-alive Agent for every request, every body read',
    file: FUNNEL,
    edits: [
      { search: "import type { Dispatcher } from 'undici';", replace: "import { Agent, type Dispatcher } from 'undici';" },
      {
        search: '\n      res = await node.pool.request({',
        replace: '\n      res = await new Agent({ keepAliveTimeout: 600_000 }).request({\n        origin: node.target.origin,',
      },
    ],
    tests: [ANSWERS],
    pattern: 'read as JSON',
    fast: true,
  },
  {
    id: 'unbounded-pool',
    what: "the pool's connection limit lifted",
    file: FUNNEL,
    edits: [{ search: 'connections: o.connectionsPerNode,', replace: 'connections: null,' }],
    tests: [ANSWERS],
    pattern: '8 callers',
  },
  {
    id: 'close-keeps-sockets',
    what: 'close() neither closes nor destroys the pools',
    file: FUNNEL,
    edits: [
      { search: 'await bounded(Promise.allSettled(this.nodes.map((n) => n.pool.close())));', replace: '' },
      { search: 'await Promise.allSettled(this.nodes.map((n) => n.pool.destroy()));', replace: '' },
    ],
    tests: [ANSWERS],
    pattern: 'read as JSON',
  },
  // --- the client ---
  {
    id: 'client-funnel-per-call',
    what: 'the client builds a new funnel (and pools) on every call',
    file: CLIENT,
    edits: [
      {
        search: 'this.funnel = new RequestFunnel(nodes, resolveOptions(opts), opts);',
        replace: "Object.defineProperty(this, 'funnel', { get: () => new RequestFunnel(nodes, resolveOptions(opts), opts) });",
      },
    ],
    tests: [ANSWERS],
    pattern: 'read as JSON',
    fast: true,
  },
  {
    id: 'client-close-noop',
    what: "the client's close() forgets its funnel",
    file: CLIENT,
    edits: [{ search: 'return this.funnel.close();', replace: 'return Promise.resolve();' }],
    tests: [ANSWERS],
    pattern: 'read as JSON',
  },
  // --- the unbind path ---
  {
    id: 'unbind-client-per-count',
    what: "unbind counts the user's connections through a management client of its own, never closed",
    file: UNBIND,
    edits: [
      { search: "import { unavailable } from '../contract/broker-errors.ts';", replace: "import { unavailable } from '../contract/broker-errors.ts';\nimport { createManagementClient } from '../rabbitmq/index.ts';" },
      {
        search: '    const open = await deps.rabbit.listUserConnections(username);\n    if (open.length === 0) return;',
        replace:
          '    const open = await createManagementClient({ urls: deps.rabbitSettings.managementUrls, ...deps.rabbitSettings.administrator }).listUserConnections(username);\n    if (open.length === 0) return;',
      },
    ],
    tests: [BOUND],
    fast: true,
  },
  {
    id: 'late-look-client-per-look',
    what: "the late look after an unbind asks through a management client of its own, never closed",
    file: UNBIND,
    edits: [
      { search: "import { unavailable } from '../contract/broker-errors.ts';", replace: "import { unavailable } from '../contract/broker-errors.ts';\nimport { createManagementClient } from '../rabbitmq/index.ts';" },
      {
        search: 'Promise<void> {\n  const open = await deps.rabbit.listUserConnections(username);',
        replace:
          'Promise<void> {\n  const open = await createManagementClient({ urls: deps.rabbitSettings.managementUrls, ...deps.rabbitSettings.administrator }).listUserConnections(username);',
      },
    ],
    tests: [BOUND],
  },
  // --- the store ---
  {
    id: 'sqlite-close-keeps-db',
    what: "the SQLite store's close() leaves the database (and its WAL files) open",
    file: 'src/store/sqlite-store.ts',
    edits: [{ search: 'db?.close();', replace: '' }],
    tests: [STORE],
    pattern: 'on a file',
    fast: true,
  },
  {
    id: 'pg-close-keeps-pool',
    what: "the PostgreSQL store's close() leaves its pool connected",
    file: 'src/store/postgres-store.ts',
    edits: [{ search: 'await pool?.end();', replace: '' }],
    tests: [STORE],
    pattern: 'PostgreSQL behind',
    fast: true,
  },
  {
    id: 'pg-migrate-no-release',
    what: 'the schema migration never releases its pooled client',
    file: 'src/store/postgres-store.ts',
    edits: [{ search: 'client.release();', replace: '' }],
    tests: [STORE],
    pattern: 'PostgreSQL behind',
  },
];
