// AMQP connections made with a binding's credentials, as an app would: the handshake must
// complete (the login really worked), bounded in time, and the server-side close is observable.
import amqp, { type ChannelModel } from 'amqplib';

export interface LiveConnection {
  conn: ChannelModel;
  /** Resolves (with the time) when the connection's 'close' event fires. */
  closed: Promise<number>;
  isClosed(): boolean;
}

export async function openAmqp(uri: string, timeoutMs = 5000): Promise<LiveConnection> {
  let timer: NodeJS.Timeout | undefined;
  const attempt = amqp.connect(uri, { timeout: timeoutMs });
  try {
    const conn = await Promise.race([
      attempt,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`AMQP connect did not finish within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    let closedAt: number | undefined;
    // A server-side close emits 'error' first: without a listener the process would crash.
    conn.on('error', () => undefined);
    const closed = new Promise<number>((resolve) =>
      conn.once('close', () => {
        closedAt = Date.now();
        resolve(closedAt);
      }),
    );
    return { conn, closed, isClosed: () => closedAt !== undefined };
  } catch (err) {
    // If the race was lost to the timer, close whatever connect produces later.
    attempt.then((c) => c.close().catch(() => undefined), () => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** true if p settles (either way) within ms. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p.then(() => true, () => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return r;
}
