// Equality of JSON values regardless of key order: an identical repeat of a request may
// serialize its parameters differently.

export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    return (a ?? null) === (b ?? null);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => sameJson(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => sameJson(ao[k], bo[k]));
}

/** An absent object and an empty one mean the same to a platform. */
export function sameOptionalObject(a: Record<string, unknown> | null | undefined, b: Record<string, unknown> | null | undefined): boolean {
  const ea = a == null || Object.keys(a).length === 0;
  const eb = b == null || Object.keys(b).length === 0;
  return ea && eb ? true : sameJson(a ?? {}, b ?? {});
}
