// One HTTP client setup for both sides of every comparison: an undici Pool per origin with
// keep-alive, the same socket count and timeouts as warren's own management pool (32 sockets,
// 30 s idle keep-alive, pipelining 1). Every response body is read to the end, always.
import { Pool } from 'undici';

export const POOL_CONNECTIONS = 32;
const KEEP_ALIVE_MS = 30_000;

export interface Answer {
  status: number;
  text: string;
}

export class HttpTarget {
  readonly pool: Pool;
  constructor(readonly origin: string, readonly baseHeaders: Record<string, string> = {}) {
    this.pool = new Pool(origin, {
      connections: POOL_CONNECTIONS,
      pipelining: 1,
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MS,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
  }

  /** Sends one request and reads the whole body (text), whatever the status. */
  async call(method: 'GET' | 'PUT' | 'DELETE' | 'PATCH', path: string, body?: string, headers?: Record<string, string>): Promise<Answer> {
    const res = await this.pool.request({
      path,
      method,
      headers: headers ? { ...this.baseHeaders, ...headers } : this.baseHeaders,
      body,
    });
    try {
      return { status: res.statusCode, text: await res.body.text() };
    } finally {
      if (!res.body.destroyed) res.body.destroy();
    }
  }

  /** Like call(), but throws unless the status is one of `ok`. */
  async expect(ok: readonly number[], method: 'GET' | 'PUT' | 'DELETE' | 'PATCH', path: string, body?: string, headers?: Record<string, string>): Promise<Answer> {
    const a = await this.call(method, path, body, headers);
    if (!ok.includes(a.status)) throw new UnexpectedStatus(method, path, a);
    return a;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export class UnexpectedStatus extends Error {
  constructor(readonly method: string, readonly path: string, readonly answer: Answer) {
    super(`${method} ${path.split('?')[0]} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  }
}

export const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
