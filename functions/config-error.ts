/**
 * A configuration the detector cannot run with: thrown by the environment's and the rules
 * file's parsers alike, its message names every bad setting, so callers catch one type.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
