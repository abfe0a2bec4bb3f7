// A small OSBAPI client for tests: every response body is read in full (this project's rule
// applies to its tests too), and answers come back as { status, headers, body }.
import { Agent, request } from 'undici';
import { readJsonAnswer, type JsonAnswer } from './json-answer.ts';

export type OsbAnswer = JsonAnswer;

export interface OsbClientOptions {
  url: string;
  username: string;
  password: string;
  version?: string | null;
  connections?: number;
  /** For https: the CA to verify warren with, and a client certificate for mutual TLS. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

export class OsbClient {
  readonly agent: Agent;
  private readonly auth: string;

  constructor(private readonly o: OsbClientOptions) {
    this.agent = new Agent({ connections: o.connections ?? 64, keepAliveTimeout: 4000, ...(o.tls ? { connect: o.tls } : {}) });
    this.auth = 'Basic ' + Buffer.from(`${o.username}:${o.password}`).toString('base64');
  }

  async call(
    method: 'GET' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    opts: {
      body?: unknown; rawBody?: string; headers?: Record<string, string>; auth?: string | null; version?: string | null;
      /** Give up on the answer (a platform's own timeout). */
      signal?: AbortSignal;
    } = {},
  ): Promise<OsbAnswer> {
    const headers: Record<string, string> = { ...opts.headers };
    const auth = opts.auth === undefined ? this.auth : opts.auth;
    if (auth !== null) headers.authorization = auth;
    const version = opts.version === undefined ? (this.o.version === undefined ? '2.17' : this.o.version) : opts.version;
    if (version !== null) headers['x-broker-api-version'] = version;
    let body: string | undefined = opts.rawBody;
    if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await request(this.o.url + path, { method, headers, body, dispatcher: this.agent, signal: opts.signal });
    return readJsonAnswer(res);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

export const DEFAULT_SERVICE_ID = '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0a01';
export const SMALL_PLAN_ID = '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0b01';
export const STANDARD_PLAN_ID = '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0b02';
