// The OSBAPI request headers: API version, request identity, originating identity.
import type { OriginatingIdentity } from '../contract/service-broker.ts';

/** Accepts any 2.x version ("2.17", "2.13", "2"); the spec's major version is what matters. */
export function isSupportedApiVersion(header: string | undefined): boolean {
  return header !== undefined && /^2(\.\d+)?$/.test(header.trim());
}

/** `<platform> <base64 JSON>`; undefined when absent or malformed (it is for the audit log only). */
export function parseOriginatingIdentity(header: string | undefined): OriginatingIdentity | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space <= 0) return undefined;
  const platform = header.slice(0, space);
  try {
    return { platform, value: JSON.parse(Buffer.from(header.slice(space + 1).trim(), 'base64').toString('utf8')) };
  } catch {
    return { platform, value: null };
  }
}
