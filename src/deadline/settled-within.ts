// "Answer by": how a promise stands after a while, without waiting for it any longer. One plain
// timer, cleared as soon as the promise settles (an aborted timers/promises sleep would cost an
// AbortController and a DOMException per call).

export type Settled<T> = { done: true; value: T } | { done: true; error: unknown } | { done: false };

/** p's value or error if it settles within ms, else { done: false } (p goes on). */
export async function settledWithin<T>(p: Promise<T>, ms: number): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    return await Promise.race([
      p.then((value): Settled<T> => ({ done: true, value }), (error: unknown): Settled<T> => ({ done: true, error })),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
