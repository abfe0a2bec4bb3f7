// Work over a list with at most `limit` items in flight: looks and checks that each make
// management calls, so a long list does not take the whole pool from the requests. The first
// failure stops the taking of new items; it is thrown once the items in flight have settled, so
// no work is left running behind the caller's back.

export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      try {
        await fn(items[next++]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  if (failure) throw failure.error;
}
