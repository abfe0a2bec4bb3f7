// Two management "nodes" for test/rabbitmq/answer-paths.test.ts, in a process of their own so
// the test's socket fds are its client sockets only. Every answer carries 1 MiB (the health
// probe's /api/whoami too), except 204.
// Prints {"a":port,"b":port}; exits when stdin ends.
import http from 'node:http';

const MiB = 1024 * 1024;
const PAD = 'x'.repeat(MiB);
const BIG_JSON = (name) => JSON.stringify({ name, tags: [], pad: PAD });
const ERROR_BODY = JSON.stringify({ error: 'Object Not Found', reason: PAD });

let requests = 0; // shared by both nodes: odd requests to /flaky answer 503
function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)) }).end(body);
}

function handler(req, res) {
  req.resume();
  const route = `${req.method} ${req.url}`;
  switch (route) {
    case 'GET /api/whoami': // the client's health probe: 1 MiB too, so a probe that skips it shows
      return send(res, 200, BIG_JSON('whoami'));
    case 'GET /api/users/big-json':
      return send(res, 200, BIG_JSON('big-json'));
    case 'PUT /api/users/created-with-body':
      return send(res, 201, BIG_JSON('created-with-body'));
    case 'PUT /api/users/no-body':
      res.writeHead(204).end();
      return;
    case 'GET /api/users/missing':
    case 'DELETE /api/users/missing':
      return send(res, 404, ERROR_BODY);
    case 'GET /api/users/missing-chunked':
      res.writeHead(404, { 'content-type': 'application/json' });
      for (let i = 0; i < 16; i++) res.write(PAD.slice(0, 64 * 1024));
      res.end();
      return;
    case 'PUT /api/users/conflict':
      return send(res, 409, ERROR_BODY);
    case 'DELETE /api/connections/username/someone':
      return send(res, 200, BIG_JSON('closed'));
    case 'GET /api/overview':
      return send(res, 200, `<html>${PAD}</html>`, 'text/html');
    case 'GET /api/users/flaky':
      if (++requests % 2 === 1) return send(res, 503, ERROR_BODY);
      return send(res, 200, BIG_JSON('flaky'));
    case 'GET /api/users/truncated': // 2 MiB announced, 512 KiB sent, then the socket is cut
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * MiB) });
      res.write(PAD.slice(0, 512 * 1024), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    case 'GET /api/users/stalls': // 2 MiB announced, 512 KiB sent, then nothing
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * MiB) });
      res.write(PAD.slice(0, 512 * 1024));
      return;
    default:
      return send(res, 400, JSON.stringify({ error: 'bad_request', reason: `no route ${route}` }));
  }
}


const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const a = await listen(http.createServer(handler));
const b = await listen(http.createServer(handler));
process.stdout.write(JSON.stringify({ a, b }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
