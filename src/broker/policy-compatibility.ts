// Plan policies the cluster's RabbitMQ version rejects or silently ignores. Checked once the
// version is known (startup does not wait for RabbitMQ, so not at config load): warren logs
// each problem, /ready turns 503 naming plan, policy and key, and a provision or update on such
// a plan is refused with a message saying what to use instead, before anything is created.
import type { PlanConfig, PolicyConfig, ServiceConfig } from '../config/config-types.ts';
import { unprocessable } from '../contract/broker-errors.ts';

export interface PolicyProblem {
  service: string;
  plan: string;
  planId: string;
  /** Which list of the plan holds the policy. */
  list: 'policies' | 'operator_policies';
  policy: string;
  key: string;
  /** 'rejected': RabbitMQ refuses the policy; 'ignored': it accepts it and does nothing. */
  kind: 'rejected' | 'ignored';
  message: string;
}

/** [major, minor, patch] of '3.10.8', '4.1.0-rc.1', '3.13.7+1.g1234'; undefined when unreadable. */
export function parseVersion(version: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** version >= major.minor */
export function atLeast(version: string, major: number, minor: number): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

interface Rule {
  applies: (key: string, value: unknown) => boolean;
  since: [number, number];
  kind: PolicyProblem['kind'];
  why: string;
  instead: string;
}

const RULES: Rule[] = [
  {
    applies: (key) => key.startsWith('ha-'),
    since: [4, 0],
    kind: 'rejected',
    why: 'classic queue mirroring was removed in RabbitMQ 4.0',
    instead: "use quorum queues instead: set the plan's rabbitmq.default_queue_type: quorum (or let apps declare x-queue-type: quorum) and drop the ha-* keys",
  },
  {
    applies: (key) => key === 'queue-mode',
    since: [3, 12],
    kind: 'ignored',
    why: 'since RabbitMQ 3.12 classic queues page messages to disk on their own and queue-mode has no effect',
    instead: 'remove it; to bound memory use max-length / max-length-bytes, or quorum queues or streams',
  },
  {
    applies: (key) => key === 'queue-master-locator',
    since: [4, 3],
    kind: 'rejected',
    why: 'RabbitMQ 4.3 refuses queue-master-locator',
    instead: 'use queue-leader-locator (client-local or balanced) instead',
  },
];

function policyProblems(service: string, plan: PlanConfig, list: PolicyProblem['list'], policies: PolicyConfig[], version: string): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  for (const p of policies) {
    for (const [key, value] of Object.entries(p.definition)) {
      for (const r of RULES) {
        if (!r.applies(key, value) || !atLeast(version, r.since[0], r.since[1])) continue;
        out.push({
          service,
          plan: plan.name,
          planId: plan.id,
          list,
          policy: p.name,
          key,
          kind: r.kind,
          message:
            `plan "${plan.name}" ${list === 'policies' ? 'policy' : 'operator policy'} "${p.name}" key "${key}": ` +
            `RabbitMQ ${version} ${r.kind === 'rejected' ? 'rejects' : 'ignores'} it (${r.why}); ${r.instead}`,
        });
      }
    }
  }
  return out;
}

/** Problems of one plan on a cluster of this version. */
export function planProblems(plan: PlanConfig, version: string, service = ''): PolicyProblem[] {
  return [
    ...policyProblems(service, plan, 'policies', plan.rabbitmq.policies, version),
    ...policyProblems(service, plan, 'operator_policies', plan.rabbitmq.operator_policies, version),
  ];
}

/** Problems of every plan of the catalog. */
export function catalogProblems(services: ServiceConfig[], version: string): PolicyProblem[] {
  return services.flatMap((s) => s.plans.flatMap((p) => planProblems(p, version, s.name)));
}

/**
 * For provision and update, before anything is created: throws 422 PlanNotSupportedByCluster
 * when the plan uses a policy key the cluster's version rejects or ignores. Does nothing while
 * the version is not known yet (RabbitMQ itself then refuses what it rejects).
 */
export function assertPlanFitsCluster(plan: PlanConfig, version: string | undefined): void {
  if (version === undefined) return;
  const problems = planProblems(plan, version);
  if (problems.length === 0) return;
  throw unprocessable(
    'PlanNotSupportedByCluster',
    `plan "${plan.name}" cannot be used on this RabbitMQ cluster until the operator changes it: ${problems.map((p) => p.message).join('; ')}`,
  );
}
