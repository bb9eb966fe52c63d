import { describe, expect, it } from 'vitest';
import { EWMA_DEFAULTS } from '../../functions/core/detectors.ts';
import { countEvents } from '../../local/evaluate/evaluate.ts';
import { evaluateFeedback, feedbackMarkdown } from '../../local/evaluate/feedback-eval.ts';
import { generatedCorpus } from '../../local/evaluate/generated.ts';

// Of the evaluator's generated corpus, shapes where ewma raises false alarms, and one where not.
const CORPUS = generatedCorpus({ seed: 20261201, copies: 1 }).filter((e) =>
  ['counts-1', 'heavyTail-1', 'burstyQuiet-1', 'dips-1'].includes(e.name),
);
const EWMA = { name: 'ewma', spec: { kind: 'ewma', ...EWMA_DEFAULTS } as const };

describe('the evaluator feedback table', () => {
  it('counts what not-anomaly verdicts on the first false alarms remove, and what they cost', async () => {
    const none = await evaluateFeedback(CORPUS, [EWMA], 0);
    const three = await evaluateFeedback(CORPUS, [EWMA], 3);
    const [n] = none.rows;
    const [t] = three.rows;
    // No verdicts: the same decisions, counted as the main table counts them.
    expect(n).toMatchObject({ verdicts: 0 });
    expect(n?.falseAlarmsAfter).toBe(n?.falseAlarmsBefore);
    expect(n?.foundAfter).toBe(n?.foundBefore);
    // At most three per sensor column; not-anomaly only ever removes alerts.
    const sensors = CORPUS.reduce((s, e) => s + e.sensors.length, 0);
    expect(t?.verdicts).toBeGreaterThan(0);
    expect(t?.verdicts).toBeLessThanOrEqual(3 * sensors);
    expect(t?.falseAlarmsBefore).toBe(n?.falseAlarmsBefore);
    expect(t?.falseAlarmsAfter).toBeLessThan(t?.falseAlarmsBefore as number);
    expect(t?.foundAfter).toBeLessThanOrEqual(t?.foundBefore as number);
    expect(t?.events).toBe(CORPUS.reduce((s, e) => s + countEvents(e.labels, e.labels).events, 0));
    expect(feedbackMarkdown(three).join('\n')).toContain(
      `| \`ewma\` | ${t?.verdicts} | ${t?.falseAlarmsBefore} | ${t?.falseAlarmsAfter} |`,
    );
  });
});
