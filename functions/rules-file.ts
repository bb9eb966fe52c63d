import { readFileSync } from 'node:fs';
import { ConfigError, ENV, parseRulesFile, type RulesFile } from './config.ts';

export type { RulesFile } from './config.ts';

export interface LoadedRulesFile extends RulesFile {
  /** The file's JSON, validated and minified: the value for DETECTOR_RULES. */
  readonly json: string;
}

/**
 * Reads and validates a per-sensor rules file (docs/detectors.md), for the backtest, the
 * local pipeline and the CDK app (which passes `json` to the function as DETECTOR_RULES).
 * Throws a ConfigError that names the file and what is wrong in it.
 */
export function loadRulesFile(path: string): LoadedRulesFile {
  let text: string;
  try {
    // `-`: standard input, as for every file argument of the local CLIs.
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`rules file "${path}": cannot read it (${code})`, { cause: error });
  }
  const file = parseRulesFile(text, `rules file "${path}"`);
  // Minified as written, defaults not filled in: the Lambda environment holds 4 KB in all.
  return { ...file, json: JSON.stringify(JSON.parse(text)) };
}

/** The function's environment variable that carries a loaded rules file. */
export function rulesEnvironment(file: LoadedRulesFile): Record<string, string> {
  return { [ENV.detectorRules]: file.json };
}
