// The reconcile report for people (text) and machines (--json). Never holds a secret: findings
// name vhosts, users and ids only.
import type { ReconcileReport } from './reconcile.ts';

export function reportJson(report: ReconcileReport, fixed: boolean): string {
  return JSON.stringify(
    {
      deployment_id: report.deploymentId,
      drift: report.findings.length > 0,
      findings: report.findings.map((f) => ({
        kind: f.kind, detail: f.detail, fixable: f.fixable,
        ...(f.instanceId !== undefined ? { instance_id: f.instanceId } : {}),
        ...(f.bindingId !== undefined ? { binding_id: f.bindingId } : {}),
        ...(f.vhost !== undefined ? { vhost: f.vhost } : {}),
        ...(f.username !== undefined ? { username: f.username } : {}),
      })),
      ...(fixed
        ? {
            repairs: report.repairs.map((r) => ({ kind: r.finding.kind, detail: r.finding.detail, repaired: r.repaired, ...(r.error ? { error: r.error } : {}) })),
            remaining: report.remaining.map((f) => ({ kind: f.kind, detail: f.detail })),
          }
        : {}),
    },
    null,
    2,
  ) + '\n';
}

export function reportText(report: ReconcileReport, fixed: boolean): string {
  const lines = [`deployment ${report.deploymentId}`];
  if (report.findings.length === 0) {
    lines.push('no drift: every record has its RabbitMQ objects, as its plan says, and no object of this deployment lacks a record');
    return lines.join('\n') + '\n';
  }
  const width = Math.max(...report.findings.map((f) => f.kind.length));
  lines.push(`${report.findings.length} finding(s):`);
  for (const f of report.findings) lines.push(`  ${f.kind.padEnd(width)}  ${f.detail}${f.fixable ? '' : '  [not repairable]'}`);
  if (fixed) {
    const done = report.repairs.filter((r) => r.repaired).length;
    lines.push(`repaired ${done} of ${report.repairs.length}`);
    for (const r of report.repairs.filter((x) => !x.repaired)) lines.push(`  not repaired: ${r.finding.kind} ${r.finding.detail}: ${r.error ?? ''}`);
    if (report.remaining.length === 0) lines.push('a scan after the repairs finds no drift');
    else {
      lines.push(`a scan after the repairs still finds ${report.remaining.length}:`);
      for (const f of report.remaining) lines.push(`  ${f.kind.padEnd(width)}  ${f.detail}`);
    }
  }
  return lines.join('\n') + '\n';
}
