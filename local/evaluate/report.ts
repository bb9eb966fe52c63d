import type { CandidateResult } from './evaluate.ts';
import { type FeedbackEvaluation, feedbackMarkdown, feedbackText } from './feedback-eval.ts';

export interface CorpusReport {
  readonly corpus: string;
  /** One line: what the corpus is (experiments, sensors, events). */
  readonly about: string;
  readonly results: readonly CandidateResult[];
  /** False alarms before and after feedback on the first few (--feedback-first). */
  readonly feedback?: FeedbackEvaluation;
}

const f1 = (x: number) => x.toFixed(1);
const f3 = (x: number) => x.toFixed(3);

/** The evaluation as a Markdown table per corpus, with what each column means. */
export function formatMarkdown(reports: readonly CorpusReport[], command: string): string {
  const out: string[] = [
    '# Detector evaluation on labelled data',
    '',
    `Written by \`${command}\` (docs/evaluate.md says how each figure is computed).`,
    '',
    '- **NAB standard / low FP / low FN**: the NAB score (Lavin & Ahmad 2015) of the `score` column,',
    '  normalised so that never firing scores 0 and firing at the start of every window 100, at the one',
    '  threshold (column "thr") that maximises the standard profile over the corpus (each profile is',
    '  swept on its own). Windows: 10 % of a file over its events, centred on each; the first 15 % of',
    '  each file (at most 750 rows) is probation.',
    '- **Event P / R / F1**: from the `anomaly` column (what the deployed function alerts on): an event',
    '  is found when any sensor of its experiment fires inside its window (NAB’s window, stretched to',
    '  the end of the labelled run); every reading flagged outside all windows is a false alarm.',
    '- **Event F0.5**: the same with precision weighted twice as much as recall (an operator paged',
    '  for every alert).',
    '- **F1 @thr**: the same event F1, of the score column cut at "thr" (score ≥ thr fires): how the',
    '  detector would do with the best single threshold in hindsight (the only F1 a baseline has',
    '  beyond its textbook rule).',
    '- Baselines are the evaluator’s own reference implementations, not product detectors.',
    '',
  ];
  for (const r of reports) {
    out.push(`## ${r.corpus}`, '', r.about, '');
    out.push(
      '| detector | NAB standard | NAB low FP | NAB low FN | thr | event P | event R | event F1 | event F0.5 | false alarms | F1 @thr |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const c of r.results) {
      const name = c.baseline ? `${c.name} *(baseline)*` : `\`${c.name}\``;
      out.push(
        `| ${name} | ${f1(c.nab.standard.normalized)} | ${f1(c.nab.rewardLowFP.normalized)} | ` +
          `${f1(c.nab.rewardLowFN.normalized)} | ${Number.isFinite(c.nab.standard.threshold) ? f3(c.nab.standard.threshold) : '-'} | ` +
          `${f3(c.events.precision)} | ${f3(c.events.recall)} | ${f3(c.events.f1)} | ${f3(c.events.f05)} | ${c.events.falseAlarms} | ` +
          `${f3(c.eventsAtThreshold.f1)} |`,
      );
    }
    out.push(...groupTables(r.results));
    if (r.feedback !== undefined) out.push(...feedbackMarkdown(r.feedback));
    out.push('', 'Parameters:', '');
    for (const c of r.results) out.push(`- ${c.name}: ${c.description}`);
    out.push('');
  }
  return `${out.join('\n')}`;
}

/**
 * Per group (fault family, scale): each detector's events found of those labelled, its false
 * alarms (readings flagged outside every event's window) and its event F0.5.
 */
function groupTables(results: readonly CandidateResult[]): string[] {
  const first = results[0];
  if (first === undefined) return [];
  const out: string[] = [];
  first.groups.forEach((table, k) => {
    out.push(
      '',
      `Per ${table.title}: events found / labelled, false alarms, event F0.5 (of the anomaly column).`,
      '',
      `| ${table.title} | ${results.map((c) => (c.baseline ? c.name.replace(/ \(.*/, '') : `\`${c.name.replace(/ \(.*/, '')}\``)).join(' | ')} |`,
      `| --- | ${results.map(() => '---:').join(' | ')} |`,
    );
    for (const row of table.rows) {
      const cells = results.map((c) => {
        const m = c.groups[k]?.rows.find((r) => r.group === row.group)?.events;
        if (m === undefined) return '-';
        const f = m.events === 0 ? '' : ` · ${f3(m.f05)}`;
        return `${m.detected}/${m.events} · ${m.falseAlarms}${f}`;
      });
      out.push(`| ${row.group} | ${cells.join(' | ')} |`);
    }
  });
  return out;
}

/** The same as a plain-text table for the terminal. */
export function formatText(reports: readonly CorpusReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    out.push(`${r.corpus}: ${r.about}`);
    const rows = [
      [
        'detector',
        'NAB std',
        'low FP',
        'low FN',
        'thr',
        'P',
        'R',
        'F1',
        'F0.5',
        'false alarms',
        'F1@thr',
      ],
      ...r.results.map((c) => [
        c.baseline ? `${c.name} (baseline)` : c.name,
        f1(c.nab.standard.normalized),
        f1(c.nab.rewardLowFP.normalized),
        f1(c.nab.rewardLowFN.normalized),
        Number.isFinite(c.nab.standard.threshold) ? f3(c.nab.standard.threshold) : '-',
        f3(c.events.precision),
        f3(c.events.recall),
        f3(c.events.f1),
        f3(c.events.f05),
        String(c.events.falseAlarms),
        f3(c.eventsAtThreshold.f1),
      ]),
    ];
    const widths = (rows[0] as string[]).map((_, i) =>
      Math.max(...rows.map((row) => (row[i] ?? '').length)),
    );
    for (const row of rows) {
      out.push(
        `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')}`,
      );
    }
    if (r.feedback !== undefined) out.push(...feedbackText(r.feedback));
    out.push('');
  }
  return out.join('\n');
}

/** The results as JSON, for tools and for comparing runs. */
export function toJson(reports: readonly CorpusReport[], command: string): string {
  return `${JSON.stringify({ command, corpora: reports }, null, 2)}\n`;
}
