import { readFileSync } from 'node:fs';
import { parseRulesFile, type RulesFile } from '../../functions/config.ts';
import { describeDetector } from './describe-detector.ts';

/** The document must fit one item (400 KB with the other attributes): keep a margin. */
export const MAX_DOCUMENT_BYTES = 350 * 1024;

/** Exit code 1 with one line: what went wrong, in the user's terms. */
export class RulesFailure extends Error {
  override readonly name = 'RulesFailure';
}

/** A rules file as read, validated, with its exact text (what `put` stores). */
export interface LoadedRules extends RulesFile {
  readonly text: string;
}

/** Reads and validates a rules file (`-`: standard input); a RulesFailure or ConfigError. */
export function readRulesSource(path: string): LoadedRules {
  let text: string;
  try {
    // `-`: standard input (`npm run rules -- get | jq … | npm run rules -- put -`).
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new RulesFailure(`rules file "${path}": cannot read it (${code})`);
  }
  if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES) {
    throw new RulesFailure(
      `rules file "${path}": ${Buffer.byteLength(text)} bytes, more than the ${MAX_DOCUMENT_BYTES} a table item holds with room to spare`,
    );
  }
  // parseRulesFile names the file and every bad path in one line (a ConfigError).
  return { ...parseRulesFile(text, `rules file "${path}"`), text };
}

/** `default zscore 3σ, 2 rules (1 by topic), 1 alert group rule, 2 maintenance windows`. */
export function rulesSummary(file: RulesFile): string {
  const onTopics = file.rules.filter((r) => r.topic !== undefined).length;
  const def =
    file.defaultDetector === undefined
      ? 'the deployed default detector'
      : `default ${describeDetector(file.defaultDetector)}`;
  const groups = file.alerting?.groups?.length ?? 0;
  const windows = file.alerting?.maintenance?.length ?? 0;
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return `${def}, ${file.rules.length} rule${file.rules.length === 1 ? '' : 's'}${onTopics > 0 ? ` (${onTopics} by topic)` : ''}${groups > 0 ? `, ${plural(groups, 'alert group rule', 'alert group rules')}` : ''}${windows > 0 ? `, ${plural(windows, 'maintenance window', 'maintenance windows')}` : ''}`;
}
