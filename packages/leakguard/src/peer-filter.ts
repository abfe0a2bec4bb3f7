// Which sockets a report is about: a port (either end) or an exact address:port (either end).
import type { SocketInfo } from './snapshot.ts';

/** 5672, "5672", "127.0.0.1:5672", "[::1]:5672", or a list of these (any may match). */
export type PeerFilter = number | string | ReadonlyArray<number | string>;

export type SocketPredicate = (socket: SocketInfo) => boolean;

function parsePort(text: string, whole: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new RangeError(`not a port or address:port: ${whole}`);
  return port;
}

function compileOne(item: number | string): SocketPredicate {
  const text = String(item).trim();
  if (!text.includes(':')) {
    const port = parsePort(text, text);
    return (s) => s.localPort === port || s.remotePort === port;
  }
  const colon = text.lastIndexOf(':');
  let address = text.slice(0, colon);
  const port = parsePort(text.slice(colon + 1), text);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  const endpoint = address.includes(':') ? `[${address.toLowerCase()}]:${port}` : `${address}:${port}`;
  return (s) => s.local === endpoint || s.remote === endpoint;
}

/** A predicate for a filter; without a filter every socket matches. Throws RangeError on bad input. */
export function compilePeerFilter(filter?: PeerFilter): SocketPredicate {
  if (filter === undefined) return () => true;
  const items = Array.isArray(filter) ? filter : [filter as number | string];
  const predicates = items.map(compileOne);
  return (s) => predicates.some((p) => p(s));
}
