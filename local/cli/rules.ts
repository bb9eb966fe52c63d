import '../flags/user-cwd.ts';
import '../flags/quiet-sdk.ts';
import { runRulesCli } from '../rules/rules-cli.ts';

// `npm run rules -- validate|get|put|diff|delete …` (docs/rules.md).
runRulesCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`npm run rules failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
