// Reading and discarding undici response bodies. Callers must still destroy the body in a
// finally block; these helpers only make the normal paths cheap and bounded.
import type { Dispatcher } from 'undici';

type Body = Dispatcher.ResponseData['body'];

/** Thrown when a body is larger than the bound; the body is destroyed by then. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`response body exceeds ${limit} bytes`);
  }
}

/** Past this, dump() stops reading and destroys the socket instead of draining it. */
const DUMP_LIMIT = 64 * 1024;

/** Discards a body the caller does not need, without buffering it. */
export function dumpBody(body: Body): Promise<void> {
  return body.dump({ limit: DUMP_LIMIT });
}

/**
 * Reads a body as UTF-8 text, at most `limit` bytes. Returns the text and its byte count.
 * With a Content-Length (what RabbitMQ sends) the check happens before reading anything.
 */
export async function readBodyText(
  body: Body,
  contentLength: string | string[] | undefined,
  limit: number,
): Promise<{ text: string; bytes: number }> {
  if (typeof contentLength === 'string') {
    const declared = Number(contentLength);
    if (Number.isSafeInteger(declared) && declared >= 0) {
      if (declared > limit) {
        body.destroy();
        throw new BodyTooLargeError(limit);
      }
      // undici itself fails the read if fewer/more bytes than declared arrive.
      return { text: await body.text(), bytes: declared };
    }
  }
  return readCapped(body, limit);
}

/** Chunked (or unknown-length) body: count while reading and stop at the bound. */
function readCapped(body: Body, limit: number): Promise<{ text: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limit) {
        body.destroy();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    body.once('end', () => resolve({ text: Buffer.concat(chunks, bytes).toString('utf8'), bytes }));
    body.once('error', reject);
    body.once('close', () => reject(new Error('response body closed before its end')));
  });
}

/** Normalizes RabbitMQ's `reason`, which is a string or (for some 400s) an array. */
export function normalizeReason(reason: unknown): string {
  if (reason === undefined || reason === null) return '';
  if (typeof reason === 'string') return reason;
  if (Array.isArray(reason)) return reason.map(normalizeReason).join(': ');
  if (typeof reason === 'number' || typeof reason === 'boolean') return String(reason);
  try {
    return JSON.stringify(reason);
  } catch {
    return String(reason);
  }
}
