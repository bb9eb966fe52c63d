/**
 * `npm run backtest --input x.csv`, without npm's `--`, gives the script only `x.csv`: npm
 * takes `--input` as a setting of its own ("npm warn Unknown cli config") and exports it to
 * the script's environment as `npm_config_input` (`--no-live` as an empty `npm_config_live`).
 * Finding one of the command's own flags there means the `--` was forgotten.
 */
export function flagsNpmKept(
  flags: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  if (env.npm_lifecycle_event === undefined) return [];
  const kept: string[] = [];
  for (const flag of flags) {
    if (flag === 'help') continue;
    const negated = flag.startsWith('no-');
    const name = (negated ? flag.slice(3) : flag).replaceAll('-', '_');
    const value = env[`npm_config_${name}`];
    if (value === undefined) continue;
    if (negated ? value === '' || value === 'false' : true) kept.push(`--${flag}`);
  }
  return kept;
}

/** The one line that says what to do about it. */
export function forgottenDashesMessage(kept: readonly string[], env: NodeJS.ProcessEnv): string {
  const script = env.npm_lifecycle_event ?? 'SCRIPT';
  const run = script === 'start' ? 'npm start' : `npm run ${script}`;
  return `npm took ${kept.join(', ')} as its own option${kept.length === 1 ? '' : 's'}: put -- before the command's options (${run} -- ${kept[0]} …)`;
}
