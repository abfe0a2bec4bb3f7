// Decoding of the hex addresses in /proc/net/tcp{,6}. The kernel prints each 32-bit word of the
// (network-order) address as a host-order integer, so on little-endian hosts every word's bytes
// come out reversed: 127.0.0.1 is "0100007F". Ports are plain big-endian hex.
import { endianness } from 'node:os';

const littleEndian = endianness() === 'LE';
// Few distinct addresses recur across thousands of rows: decode each once.
const cache = new Map<string, string>();

/** Four address bytes of one printed word, in network order. */
function wordBytes(hex: string, at: number, out: number[]): void {
  const word = parseInt(hex.slice(at, at + 8), 16);
  if (littleEndian) out.push(word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24);
  else out.push(word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff);
}

/** RFC 5952 text for 16 bytes: lower case, longest run (≥2) of zero groups shortened to "::". */
export function formatIpv6(bytes: readonly number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

/**
 * Text form of a /proc/net/tcp address: 8 hex digits are IPv4, 32 are IPv6. IPv4-mapped IPv6
 * (::ffff:a.b.c.d, how a dual-stack listener sees IPv4 peers) is given as plain a.b.c.d.
 */
export function decodeProcAddress(hex: string): string {
  const known = cache.get(hex);
  if (known !== undefined) return known;
  const bytes: number[] = [];
  for (let at = 0; at < hex.length; at += 8) wordBytes(hex, at, bytes);
  let text: string;
  if (bytes.length === 4) {
    text = bytes.join('.');
  } else if (bytes.length === 16 && isV4Mapped(bytes)) {
    text = bytes.slice(12).join('.');
  } else if (bytes.length === 16) {
    text = formatIpv6(bytes);
  } else {
    throw new Error(`not a /proc/net address: ${JSON.stringify(hex)}`);
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(hex, text);
  return text;
}

function isV4Mapped(bytes: readonly number[]): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** "a.b.c.d:port", or "[v6]:port" so the port stays unambiguous. */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
