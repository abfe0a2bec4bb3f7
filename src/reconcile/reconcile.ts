// One reconcile pass: scan, look again, optionally repair and check the result. Used by the
// `warren reconcile` command and by the server's periodic scan alike.
import type { Finding, ReconcileDeps } from './findings.ts';
import { repair, type RepairOutcome } from './repair.ts';
import { scanOnce, takeSnapshot } from './scan.ts';

export interface ReconcileReport {
  deploymentId: string;
  /** Differences seen twice in a row (a second look filters out operations in flight). */
  findings: Finding[];
  /** With fix: what was done about each finding. */
  repairs: RepairOutcome[];
  /** With fix: what a scan after the repairs still finds. Without fix: the findings. */
  remaining: Finding[];
}

const keyOf = (f: Finding) => JSON.stringify([f.kind, f.vhost ?? '', f.username ?? '', f.instanceId ?? '', f.bindingId ?? '']);

async function scan(deps: ReconcileDeps): Promise<Finding[]> {
  return scanOnce(deps, await takeSnapshot(deps));
}

/** Scans twice and keeps what both saw: an object being made or removed right now is not drift. */
export async function confirmedFindings(deps: ReconcileDeps): Promise<Finding[]> {
  const first = await scan(deps);
  if (first.length === 0) return [];
  const again = new Set((await scan(deps)).map(keyOf));
  return first.filter((f) => again.has(keyOf(f)));
}

export async function reconcile(deps: ReconcileDeps, opts: { fix: boolean }): Promise<ReconcileReport> {
  const findings = await confirmedFindings(deps);
  for (const f of findings) {
    deps.log.warn({ reconcile: 'drift', kind: f.kind, vhost: f.vhost, username: f.username, instance_id: f.instanceId, binding_id: f.bindingId, fixable: f.fixable }, f.detail);
  }
  if (!opts.fix || findings.length === 0) return { deploymentId: deps.deploymentId, findings, repairs: [], remaining: findings };
  const repairs = await repair(deps, findings);
  for (const r of repairs.filter((x) => !x.repaired)) {
    deps.log.error({ reconcile: 'repair_failed', kind: r.finding.kind, vhost: r.finding.vhost, username: r.finding.username, err: r.error }, 'reconcile could not repair');
  }
  const remaining = await scan(deps);
  return { deploymentId: deps.deploymentId, findings, repairs, remaining };
}
