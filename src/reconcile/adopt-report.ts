// What `warren reconcile --adopt` did, for people and for machines.
import type { AdoptionResult } from './adopt.ts';

export function adoptionJson(r: AdoptionResult): string {
  return JSON.stringify(
    {
      deployment_id: r.deploymentId, plan: r.planName, dry_run: r.dryRun,
      adopted: r.adopted.map((a) => ({ instance_id: a.instanceId, binding_ids: a.bindings })),
      skipped: r.skipped, failed: r.failed,
    },
    null,
    2,
  ) + '\n';
}

export function adoptionText(r: AdoptionResult): string {
  const verb = r.dryRun ? 'would adopt' : 'adopted';
  const lines = [`deployment ${r.deploymentId}: ${verb} ${r.adopted.length} instance(s) with plan ${r.planName}`];
  for (const a of r.adopted) lines.push(`  ${a.instanceId}: ${a.bindings.length} binding(s)${a.bindings.length ? ' ' + a.bindings.join(', ') : ''}`);
  for (const s of r.skipped) lines.push(`  skipped ${s.name}: ${s.reason}`);
  for (const f of r.failed) lines.push(`  FAILED ${f.name}: ${f.error}`);
  if (!r.dryRun && r.adopted.length > 0) {
    lines.push('adopted bindings keep their passwords (the Go broker never stored them); run `warren reconcile --fix` to apply the plan');
  }
  return lines.join('\n') + '\n';
}
