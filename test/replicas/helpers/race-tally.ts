// Rounds of a race, judged one by one and reported together: the histogram of every answer
// (so a failure shows the whole picture, as the issue's numbers do) and each round that broke
// a rule, with the replicas' answers.
import assert from 'node:assert/strict';
import { histogram, outcome, type ReplicaAnswer } from './replica-set.ts';

/** How long one scenario may run (WARREN_REPLICA_SCENARIO_MS, default 4 minutes). */
export const SCENARIO_MS = Number(process.env['WARREN_REPLICA_SCENARIO_MS'] ?? 240_000);

export class RaceTally {
  private readonly outcomes: string[] = [];
  readonly problems: string[] = [];
  rounds = 0;
  private readonly started = Date.now();

  constructor(readonly scenario: string) {}

  /** Records a round's answers; `rules` returns what is wrong with them (empty when all is well). */
  round(n: number, answers: ReplicaAnswer[], rules: (a: ReplicaAnswer[], o: string[]) => string[]): void {
    this.rounds++;
    const o = answers.map(outcome);
    this.outcomes.push(...o);
    for (const p of rules(answers, o)) {
      this.problems.push(`round ${n}: ${p} [${answers.map((a, i) => `${a.replica}=${o[i]}${a.answer && a.answer.status >= 500 ? ` ${a.answer.text.slice(0, 160)}` : ''}`).join(', ')}]`);
    }
  }

  /** A problem found after the answers (a check of RabbitMQ or of a GET). */
  note(n: number, problem: string): void {
    this.problems.push(`round ${n}: ${problem}`);
  }

  /** False once the scenario has used its time; the test then fails saying how far it got. */
  inTime(): boolean {
    return Date.now() - this.started < SCENARIO_MS;
  }

  get histogram(): Record<string, number> {
    return histogram(this.outcomes);
  }

  assertClean(expectedRounds: number): void {
    const summary = `${this.scenario}: ${this.rounds} rounds in ${Math.round((Date.now() - this.started) / 1000)} s, answers ${JSON.stringify(this.histogram)}`;
    console.log(summary);
    const shown = this.problems.slice(0, 25).join('\n  ');
    const more = this.problems.length > 25 ? `\n  ... and ${this.problems.length - 25} more` : '';
    assert.equal(this.problems.length, 0, `${summary}\n${this.problems.length} problem(s):\n  ${shown}${more}`);
    assert.equal(this.rounds, expectedRounds, `${summary}: only ${this.rounds} of ${expectedRounds} rounds within ${SCENARIO_MS} ms`);
  }
}

export function count(o: string[], what: string): number {
  return o.filter((x) => x === what).length;
}

/** Outcomes outside the allowed set. */
export function outside(o: string[], allowed: string[]): string[] {
  return o.filter((x) => !allowed.includes(x));
}
