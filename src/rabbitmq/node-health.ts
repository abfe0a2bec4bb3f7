// What the management client knows about each node, from the outcome of every exchange and
// from background probes: up (answered last time), suspect (one failure that may be
// transient), down (refused, stalled past a deadline, or failing repeatedly), unknown (not
// heard from yet). Calls try up nodes first and skip down ones, so a stalled node costs one
// attempt deadline and is then left to the probe until it answers again. When every node is
// down, calls still try those that failed fast (refused, reset: cheap to ask again), never one
// that stalled: with every node stalled a call fails at once instead of waiting out deadlines.
import { isConnectPhaseCode } from './retry-policy.ts';

export type NodeState = 'unknown' | 'up' | 'suspect' | 'down';

export interface NodeHealthView {
  node: string;
  state: NodeState;
  /** When the node entered this state (ISO 8601). */
  since: string;
  /** Failures in a row (requests and probes). */
  consecutive_failures: number;
  /** Transport code of the last failure, e.g. ATTEMPT_TIMEOUT, ECONNREFUSED, HTTP_503. */
  last_error?: string;
}

/** The node stopped answering: a deadline or timeout passed while waiting on it. */
const STALLED = new Set(['ATTEMPT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
/** Our own shortage (no fd for a socket), not the node's fault: says nothing about the node. */
const OURS = new Set(['EMFILE', 'ENFILE']);

const RANK: Record<NodeState, number> = { up: 0, unknown: 1, suspect: 2, down: 3 };

export class NodeHealth {
  private readonly states: NodeState[];
  private readonly since: number[];
  private readonly failures: number[];
  private readonly lastError: Array<string | undefined>;
  /** Down because it stopped answering (a deadline passed), not because it refused. */
  private readonly stalled: boolean[];
  private order: readonly number[] | undefined;

  constructor(
    private readonly names: readonly string[],
    private readonly onChange?: (node: number, from: NodeState, to: NodeState, code: string | undefined) => void,
  ) {
    const now = Date.now();
    this.states = names.map(() => 'unknown');
    this.since = names.map(() => now);
    this.failures = names.map(() => 0);
    this.lastError = names.map(() => undefined);
    this.stalled = names.map(() => false);
  }

  state(i: number): NodeState {
    return this.states[i]!;
  }

  succeeded(i: number): void {
    this.failures[i] = 0;
    this.stalled[i] = false;
    if (this.states[i] !== 'up') this.set(i, 'up', undefined);
  }

  /** Records a failed exchange; returns false when the failure says nothing about the node. */
  failed(i: number, code: string): boolean {
    if (OURS.has(code)) return false;
    this.failures[i]!++;
    this.lastError[i] = code;
    const stalled = STALLED.has(code);
    const definite = stalled || isConnectPhaseCode(code) || this.failures[i]! >= 2;
    const next: NodeState = definite ? 'down' : 'suspect';
    if (this.stalled[i] !== stalled) {
      this.stalled[i] = stalled;
      this.order = undefined;
    }
    if (this.states[i] !== next) this.set(i, next, code);
    return true;
  }

  /** Down because it stalled: calls leave it to the probe. */
  stalledDown(i: number): boolean {
    return this.states[i] === 'down' && this.stalled[i]!;
  }

  anyUp(): boolean {
    return this.states.includes('up');
  }

  /**
   * Node indexes in the order calls should try them: up, unknown, suspect, each in the
   * configured order; down nodes are left out. When every node is down: those that failed
   * fast, as a last resort (the probe may not have seen a recovery yet); none that stalled
   * (an empty list: the call fails at once). Cached until a state changes.
   */
  callOrder(): readonly number[] {
    if (this.order) return this.order;
    const all = this.names.map((_, i) => i);
    const live = all.filter((i) => this.states[i] !== 'down').sort((a, b) => RANK[this.states[a]!] - RANK[this.states[b]!] || a - b);
    this.order = live.length > 0 ? live : all.filter((i) => !this.stalled[i]);
    return this.order;
  }

  view(): NodeHealthView[] {
    return this.names.map((node, i) => {
      const v: NodeHealthView = {
        node,
        state: this.states[i]!,
        since: new Date(this.since[i]!).toISOString(),
        consecutive_failures: this.failures[i]!,
      };
      if (this.lastError[i] !== undefined) v.last_error = this.lastError[i];
      return v;
    });
  }

  private set(i: number, to: NodeState, code: string | undefined): void {
    const from = this.states[i]!;
    this.states[i] = to;
    this.since[i] = Date.now();
    this.order = undefined;
    this.onChange?.(i, from, to, code);
  }
}
