import type { Sample, SoakCheck } from './checks.ts';

/**
 * The soak's summary as Markdown (`<out>.md`): the checks, the counts and every sample, for
 * docs/reliability.md to link to.
 */

export function markdown(s: {
  startedAt: string;
  pass: boolean;
  settings: Record<string, unknown>;
  counts: Record<string, number>;
  poller: Record<string, number>;
  invokeMs: Record<string, number>;
  checks: readonly SoakCheck[];
  samples: readonly Sample[];
}): string {
  const rows = s.samples
    .map(
      (x) =>
        `| ${x.elapsedSeconds} | ${x.produced} | ${x.applied} | ${x.rejected} | ${x.lag} | ${x.rssMiB} | ${x.heapUsedMiB} | ${x.servicesRssMiB} |`,
    )
    .join('\n');
  return `# Soak test: ${s.pass ? 'PASS' : 'FAIL'}

Started ${s.startedAt} with \`scripts/soak.ts\` (${JSON.stringify(s.settings)}).
Kafka (librdkafka mock cluster) → poller → Lambda handler → dynalite and the SNS endpoint
(in a child process, so the heap below is the pipeline's own).

## Checks

| check | result | figures |
| --- | --- | --- |
${s.checks.map((c) => `| ${c.name} | ${c.judged === false ? 'not judged (run < 4 min)' : c.pass ? 'pass' : '**FAIL**'} | ${c.detail} |`).join('\n')}

## Counts

${Object.entries(s.counts)
  .map(([k, v]) => `- ${k}: ${v}`)
  .join('\n')}

Poller: ${Object.entries(s.poller)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}.
Invocation time: p50 ${s.invokeMs.p50} ms, p99 ${s.invokeMs.p99} ms, max ${s.invokeMs.max} ms.

## Samples

| s | produced | applied | rejected | lag | rss MiB | heap MiB (after GC) | services rss MiB |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows}
`;
}
