// Bindings deleted lately, so last_operation can answer 'succeeded' after a delete instead of an
// error. Bounded in count and age; in memory only, because bindings are deleted synchronously
// and no platform polls for long after a synchronous answer.

export class RecentDeletions {
  private readonly entries = new Map<string, { instanceId: string; at: number }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly maxAgeMs = 3_600_000,
  ) {}

  add(id: string, instanceId: string): void {
    this.entries.delete(id);
    this.entries.set(id, { instanceId, at: Date.now() });
    // Maps iterate in insertion order: the first entries are the oldest.
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
    }
  }

  has(id: string, instanceId: string): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    if (Date.now() - e.at > this.maxAgeMs) {
      this.entries.delete(id);
      return false;
    }
    return e.instanceId === instanceId;
  }

  /** A new binding with the same id is not "recently deleted" any more. */
  forget(id: string): void {
    this.entries.delete(id);
  }
}
