import '../flags/user-cwd.ts';
import '../flags/quiet-sdk.ts';
import { runFeedbackCli } from '../feedback/feedback-cli.ts';

// `npm run feedback -- ALERT_ID not-anomaly|missed …`, `list`, `delete` (docs/feedback.md).
runFeedbackCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`npm run feedback failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
