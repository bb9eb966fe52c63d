/**
 * npm runs a package's scripts from the package root: "Scripts are run from the root of the
 * package folder, regardless of what the current working directory is when npm run is called.
 * If you want your script to use different behavior based on what subdirectory you're in, you
 * can use the INIT_CWD environment variable, which holds the full path you were in when you ran
 * npm run." (https://docs.npmjs.com/cli/v10/commands/npm-run-script). Our own scripts move
 * back there, so `npm run backtest -- --input readings.csv` typed in examples/ reads
 * examples/readings.csv, as any command would. Only for our scripts (npm_lifecycle_event): a
 * CLI a test starts under `npm test` keeps the directory it was started in.
 */
const OWN_SCRIPTS = new Set(['start', 'produce', 'backtest', 'rules', 'evaluate']);

export function moveToUserDirectory(env: NodeJS.ProcessEnv = process.env): void {
  const initCwd = env.INIT_CWD;
  if (initCwd === undefined || initCwd === '') return;
  if (!OWN_SCRIPTS.has(env.npm_lifecycle_event ?? '')) return;
  try {
    process.chdir(initCwd);
  } catch {
    // A directory removed since: stay in the package root.
  }
}

moveToUserDirectory();
