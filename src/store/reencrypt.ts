// Re-seals every stored binding's credentials with the primary key (`warren rotate-keys`), in
// batches, beside a running server: each row is replaced only if it still holds the value that
// was read (compare-and-set), so a concurrent write by the server is never overwritten.

import { CredentialsDecryptError, openCredentials, sealCredentials } from './credentials-crypto.ts';
import { sealedPrefix, type SecretBox } from './secret-box.ts';

export interface ReencryptOptions {
  /** Rows per batch (one short transaction each on SQLite). Default 100. */
  batchSize?: number;
  /** Called after each batch with the running totals. */
  onBatch?: (progress: ReencryptResult) => void;
  /** Called between reading a batch and writing it back (where a concurrent write can land). */
  beforeWrite?: (bindingIds: string[]) => Promise<void>;
}

export interface ReencryptResult {
  /** Re-sealed with the primary key. */
  reencrypted: number;
  /** Changed by someone else between read and write (already re-sealed by the server's own write). */
  skipped: number;
  /** Could not be opened with any configured key: binding ids and why (no secrets). */
  failed: Array<{ bindingId: string; reason: string }>;
  /** Label of the primary key everything was re-sealed with. */
  primary: string;
}

export interface SealedRow {
  id: string;
  credentials: string;
}

/** What a store provides: rows not sealed with `prefix`, after `afterId`, by id; and compare-and-set. */
export interface ReencryptAccess {
  select(prefix: string, afterId: string, limit: number): Promise<SealedRow[]>;
  /** Writes the batch's replacements, each only where the row still holds `from`; returns how many were written. */
  replace(changes: Array<{ id: string; from: string; to: string }>): Promise<number>;
}

export async function reencryptCredentials(box: SecretBox, access: ReencryptAccess, opts: ReencryptOptions = {}): Promise<ReencryptResult> {
  const limit = opts.batchSize ?? 100;
  const primary = box.keyring.primaryLabel;
  const prefix = sealedPrefix(primary);
  const result: ReencryptResult = { reencrypted: 0, skipped: 0, failed: [], primary };
  let after = '';
  for (;;) {
    const rows = await access.select(prefix, after, limit);
    if (rows.length === 0) break;
    const changes: Array<{ id: string; from: string; to: string }> = [];
    for (const row of rows) {
      try {
        const clear = openCredentials(box, row.id, row.credentials);
        changes.push({ id: row.id, from: row.credentials, to: sealCredentials(box, row.id, clear)! });
      } catch (err) {
        if (!(err instanceof CredentialsDecryptError)) throw err;
        result.failed.push({ bindingId: row.id, reason: err.message });
      }
    }
    await opts.beforeWrite?.(changes.map((c) => c.id));
    const written = changes.length === 0 ? 0 : await access.replace(changes);
    result.reencrypted += written;
    result.skipped += changes.length - written;
    after = rows.at(-1)!.id;
    opts.onBatch?.({ ...result, failed: [...result.failed] });
    if (rows.length < limit) break;
  }
  return result;
}
