import { readFileSync } from 'node:fs';
import {
  FEEDBACK_BOUNDS,
  FeedbackInputError,
  type FeedbackRecord,
  feedbackRecord,
} from '../../functions/core/feedback.ts';
import { UsageError } from '../flags/parse-flags.ts';

/**
 * Verdicts for `npm run backtest -- --feedback FILE` (docs/feedback.md): what
 * `npm run feedback -- list --json` prints (one verdict per line), or a JSON array of them.
 * A hand-written verdict gives its time as `recordedAtMs` or `recordedAt` (ISO 8601), in the
 * recording's time; the rest as the CLI takes it (alertId, verdict, sensorId, score, …).
 */
export function loadFeedbackFile(path: string): FeedbackRecord[] {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`--feedback "${path}": cannot read it (${code})`);
  }
  const trimmed = text.trim();
  let entries: { value: unknown; where: string }[];
  if (trimmed.startsWith('[')) {
    let array: unknown[];
    try {
      array = JSON.parse(trimmed) as unknown[];
    } catch (error) {
      throw new UsageError(`--feedback "${path}": not JSON (${(error as Error).message})`);
    }
    entries = array.map((value, i) => ({ value, where: `entry ${i + 1}` }));
  } else {
    entries = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      try {
        entries.push({ value: JSON.parse(line), where: `line ${i + 1}` });
      } catch {
        throw new UsageError(`--feedback "${path}" line ${i + 1}: not a JSON verdict`);
      }
    }
  }
  return entries.map(({ value, where }) => verdictOf(value, `--feedback "${path}" ${where}`));
}

function verdictOf(value: unknown, where: string): FeedbackRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(`${where}: a JSON object with alertId, verdict, sensorId and its time`);
  const v = value as Record<string, unknown>;
  const at =
    typeof v.recordedAtMs === 'number'
      ? v.recordedAtMs
      : typeof v.recordedAt === 'string'
        ? Date.parse(v.recordedAt)
        : Number.NaN;
  if (!Number.isFinite(at))
    throw new UsageError(`${where}: recordedAtMs (epoch ms) or recordedAt (ISO 8601) is needed`);
  try {
    const record = feedbackRecord(
      { ...v, verdict: v.verdict },
      typeof v.by === 'string' && v.by !== '' ? v.by.slice(0, FEEDBACK_BOUNDS.maxByChars) : 'file',
      at,
    );
    const expires = typeof v.expiresAtMs === 'number' ? v.expiresAtMs : record.expiresAtMs;
    return { ...record, expiresAtMs: expires };
  } catch (error) {
    if (error instanceof FeedbackInputError) throw new UsageError(`${where}: ${error.message}`);
    throw error;
  }
}
