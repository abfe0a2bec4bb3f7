// Failed logins per client address. After `maxFailures` within `windowMs`, further wrong
// credentials from that address get 429 with Retry-After instead of 401, and are no longer
// logged one by one. Right credentials always get in, from any address: a platform behind the
// same proxy or NAT as a misbehaving client is never locked out, and successful logins never
// count. Against guessing itself, the protection is the password's strength (the generated
// one has 192 bits) and, where wanted, mutual TLS.

export interface ThrottleOptions {
  maxFailures: number;
  windowMs: number;
  /** Addresses remembered at most (the oldest are forgotten first). Default 10,000. */
  maxAddresses?: number;
}

export class LoginThrottle {
  /** Per address, the times of its latest failures (at most maxFailures of them), oldest first. */
  readonly #failures = new Map<string, number[]>();
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxAddresses: number;

  constructor(o: ThrottleOptions) {
    this.#max = o.maxFailures;
    this.#windowMs = o.windowMs;
    this.#maxAddresses = o.maxAddresses ?? 10_000;
  }

  /** Seconds the address must wait, or 0 when it may try. */
  retryAfter(address: string, now = Date.now()): number {
    const times = this.#recent(address, now);
    if (times.length < this.#max) return 0;
    return Math.max(1, Math.ceil((times[0]! + this.#windowMs - now) / 1000));
  }

  /** Records a failure; returns true when this one makes the address throttled. */
  fail(address: string, now = Date.now()): boolean {
    const times = this.#recent(address, now);
    times.push(now);
    if (times.length > this.#max) times.shift();
    this.#failures.delete(address); // re-insert: the map's order is the order of last failure
    this.#failures.set(address, times);
    if (this.#failures.size > this.#maxAddresses) this.#failures.delete(this.#failures.keys().next().value!);
    return times.length === this.#max;
  }

  #recent(address: string, now: number): number[] {
    const times = this.#failures.get(address);
    if (!times) return [];
    while (times.length > 0 && times[0]! <= now - this.#windowMs) times.shift();
    if (times.length === 0) this.#failures.delete(address);
    return times;
  }
}
