// The soak's HTML page: verdict, the chart (testkit/svg-charts.ts), failures and the summary.
import { esc } from '../../testkit/svg-charts.ts';

export interface HtmlReport {
  title: string;
  ok: boolean;
  verdict: string;
  svg: string;
  table: string;
  failures: string[];
  details: Array<{ heading: string; text: string }>;
}

export function renderHtml(r: HtmlReport): string {
  const failures = r.failures.length
    ? `<h2>Failures</h2><ul>${r.failures.map((f) => `<li><pre>${esc(f)}</pre></li>`).join('')}</ul>`
    : '';
  const details = r.details.map((d) => `<h2>${esc(d.heading)}</h2><pre>${esc(d.text)}</pre>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(r.title)}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1180px; padding: 0 12px; color: #222; }
svg { max-width: 100%; height: auto; }
h1 { font-size: 22px; }
h2 { font-size: 16px; margin-top: 28px; }
pre { background: #f6f8fa; padding: 10px 12px; overflow-x: auto; font-size: 12px; line-height: 1.4; }
.verdict { font-size: 16px; font-weight: bold; padding: 8px 12px; border-radius: 4px; }
.pass { background: #dafbe1; color: #116329; }
.fail { background: #ffebe9; color: #a40e26; }
ul { padding-left: 18px; } li pre { margin: 4px 0; }
</style>
</head>
<body>
<h1>${esc(r.title)}</h1>
<p class="verdict ${r.ok ? 'pass' : 'fail'}">${esc(r.verdict)}</p>
${r.svg}
${failures}
<h2>Summary</h2>
<pre>${esc(r.table)}</pre>
${details}
</body>
</html>
`;
}
