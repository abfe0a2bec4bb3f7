// Path segments for the management API. Every name (vhost, user, policy) is percent-encoded as
// one segment: vhost "/" becomes %2F, and '%', '#', '?', spaces and any unicode survive.

export function seg(name: string, what: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`${what} name must be a non-empty string`);
  }
  // Cowboy answers 301 for a dot segment, even percent-encoded: such names are unreachable.
  if (name === '.' || name === '..') {
    throw new RangeError(`${what} name '${name}' cannot be addressed through the management HTTP API`);
  }
  try {
    return encodeURIComponent(name);
  } catch {
    throw new TypeError(`${what} name is not well-formed Unicode`);
  }
}

/** X-Reason goes into a header: keep printable ASCII only, bounded. */
export function headerSafe(text: string, max = 200): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, max);
}
