// Pieces of the soak that are not the workload itself: RabbitMQ's management API read directly
// (never through warren's client), AMQP connections as an app makes them, latency statistics,
// and /proc readings the leak module does not cover (RSS, the raw fd limit line).
// Every HTTP response body is read to its end here too: the soak must not leak what it hunts.
import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { managementCall } from '../../testkit/json-answer.ts';
import { listedNames } from '../../testkit/listed-names.ts';

// ---------------------------------------------------------------------------------------------
// RabbitMQ management API, with the administrator account.

export interface AdminAnswer {
  status: number;
  body: unknown;
  text: string;
}

export class RabbitAdmin {
  private readonly agent = new Agent({ connections: 4, keepAliveTimeout: 2000, headersTimeout: 20_000, bodyTimeout: 20_000 });
  private readonly auth: string;
  readonly base: string;

  constructor(url: string, username: string, password: string) {
    this.base = url.replace(/\/+$/, '');
    this.auth = 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
  }

  async call(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<AdminAnswer> {
    return managementCall(this.agent, this.base, this.auth, method, path, body);
  }

  /** Names of users or vhosts starting with prefix. */
  async namesWithPrefix(kind: 'users' | 'vhosts', prefix: string): Promise<string[]> {
    const r = await this.call('GET', `${kind}?columns=name`);
    if (r.status !== 200 || !Array.isArray(r.body)) throw new Error(`GET /api/${kind}: ${r.status} ${r.text.slice(0, 200)}`);
    return listedNames(r.body, prefix);
  }

  /** Deletes every user and vhost whose name starts with prefix; returns what it deleted. */
  async purge(prefix: string): Promise<{ users: string[]; vhosts: string[] }> {
    const users = await this.namesWithPrefix('users', prefix);
    for (const u of users) await this.call('DELETE', `users/${encodeURIComponent(u)}`);
    const vhosts = await this.namesWithPrefix('vhosts', prefix);
    for (const v of vhosts) await this.call('DELETE', `vhosts/${encodeURIComponent(v)}`);
    return { users, vhosts };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

// ---------------------------------------------------------------------------------------------
// AMQP connections made with a binding's credentials.uri.

export { openAmqp, within, type LiveConnection } from '../support/amqp-connection.ts';

// ---------------------------------------------------------------------------------------------
// Latencies.

/** Durations of one operation; bounded (the first `cap` are kept, the count goes on). */
export class Latencies {
  private readonly values: number[] = [];
  count = 0;
  constructor(private readonly cap = 500_000) {}

  add(ms: number): void {
    this.count++;
    if (this.values.length < this.cap) this.values.push(ms);
  }

  summary(): { count: number; p50: number; p99: number; max: number } {
    const sorted = [...this.values].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
    return { count: this.count, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
  }
}

// ---------------------------------------------------------------------------------------------
// /proc readings.

/** VmRSS of a process in KiB, or null when it is gone. */
export function readRssKb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The "Max open files" line of /proc/<pid>/limits, read and parsed here (not by the leak module). */
export function readOpenFilesLimit(pid: number): { soft: number | 'unlimited'; hard: number | 'unlimited'; line: string } {
  const text = readFileSync(`/proc/${pid}/limits`, 'latin1');
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  if (!line) throw new Error(`/proc/${pid}/limits has no "Max open files" line`);
  const m = /^Max open files\s+(\S+)\s+(\S+)\s+files/.exec(line);
  if (!m) throw new Error(`cannot parse ${JSON.stringify(line)}`);
  const num = (s: string) => (s === 'unlimited' ? 'unlimited' : Number(s));
  return { soft: num(m[1]!), hard: num(m[2]!), line: line.trim() };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function fmtMs(ms: number): string {
  if (ms < 10) return ms.toFixed(1);
  return String(Math.round(ms));
}

export function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export const mb = (kb: number) => (kb / 1024).toFixed(1);
