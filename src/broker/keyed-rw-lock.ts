// Per-key readers-writer lock, in process. Binds share their instance's lock (they may run in
// parallel); provision, update and deprovision take it alone. A waiting writer stops new
// readers, so a deprovision is not starved by a stream of binds.

interface Entry {
  readers: number;
  writer: boolean;
  queue: Array<{ write: boolean; wake: () => void }>;
}

export class KeyedRwLock {
  private readonly entries = new Map<string, Entry>();

  /** Runs fn holding the key's lock, shared (write=false) or exclusive (write=true). */
  async with<T>(key: string, write: boolean, fn: () => Promise<T>): Promise<T> {
    await this.acquire(key, write);
    try {
      return await fn();
    } finally {
      this.release(key, write);
    }
  }

  /** True while anyone holds or waits for the key. */
  busy(key: string): boolean {
    return this.entries.has(key);
  }

  private acquire(key: string, write: boolean): Promise<void> | void {
    let e = this.entries.get(key);
    if (!e) {
      e = { readers: 0, writer: false, queue: [] };
      this.entries.set(key, e);
    }
    const free = write ? !e.writer && e.readers === 0 : !e.writer && e.queue.length === 0;
    if (free) {
      if (write) e.writer = true;
      else e.readers++;
      return;
    }
    return new Promise<void>((wake) => e.queue.push({ write, wake }));
  }

  private release(key: string, write: boolean): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (write) e.writer = false;
    else e.readers--;
    // Hand the lock to the next waiters: one writer, or every reader up to the next writer.
    while (e.queue.length > 0 && !e.writer) {
      const next = e.queue[0]!;
      if (next.write) {
        if (e.readers > 0) break;
        e.queue.shift();
        e.writer = true;
        next.wake();
        break;
      }
      e.queue.shift();
      e.readers++;
      next.wake();
    }
    if (!e.writer && e.readers === 0 && e.queue.length === 0) this.entries.delete(key);
  }
}
