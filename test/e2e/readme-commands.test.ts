import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cdkCommand, DEPLOY_EXAMPLES } from '../../infra/examples.ts';
import { repo } from './support/run-cli.ts';

/**
 * Every command of the README, run as written (through a shell, from the repository root, as
 * a new user pastes it). A command that runs until Ctrl-C gets one, as a user would give it.
 */
/** The command lines of a Markdown page's `sh` blocks, a `\` continuation joined, comments dropped. */
function shellCommands(markdown: string): string[] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) =>
    (block[1] ?? '')
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .map((line) => line.replace(/\s+#\s.*$/, '').trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}

const README = readFileSync(`${repo}README.md`, 'utf8');
const COMMANDS = shellCommands(README);

/** Commands not run here, and what checks them instead. */
const CHECKED_ELSEWHERE: Readonly<Record<string, string>> = {
  'npm test': 'this suite is npm test itself',
  'npx cdk synth --no-notices': 'test/infra/cli.test.ts runs this synth through a shell',
  [cdkCommand('deploy', DEPLOY_EXAMPLES.mskIam.context).replace(/\\\n\s*/g, '')]:
    'needs an account: test/infra/msk.test.ts synthesizes this very context, test/infra/docs.test.ts checks the quote',
};

/** What each command must print (stdout), so "it ran" means it did its job. */
const EXPECTED: Readonly<Record<string, RegExp>> = {
  'npm start':
    /live view {3}http:\/\/127\.0\.0\.1:\d+\/[\s\S]*ANOMALY → sensor_\d+: value=-?[\d.]+, avg=-?[\d.]+[\s\S]*Summary after/,
  'npm start -- --help':
    /Usage: npm start -- \[options\][\s\S]*--ewma-sigma X +ewma: Band of this many learned standard deviations around the learned mean\. \(default 4\)/,
  'npm start -- --detector robust --sensors 3 --duration 10':
    /detection {3}robust \(score > 0\.5\)[\s\S]*Summary after[\s\S]*records processed/,
  'npm run backtest -- --input examples/readings.csv':
    /backtest of examples\/readings\.csv \(csv\): 756 data lines[\s\S]*flinkLike_1 +threshold/,
  'npm run backtest -- --input examples/readings.csv --rules examples/detector-rules.json --plot judged.html':
    /hugeScale_1 +zscore[\s\S]*wrote judged\.html \(5 sensors\)/,
  'npx sensor-anomaly backtest -i examples/readings.csv -o judged.csv':
    /backtest of examples\/readings\.csv[\s\S]*wrote judged\.csv \(752 rows\)/,
  'npm run backtest -- --input examples/plant-export-de.csv --time-column Zeit --sensor-column Messstelle --value-column Wert --detector ewma':
    /read as: semicolon-separated, decimal comma, columns time=Zeit, sensor=Messstelle, value=Wert[\s\S]*Kessel_1 +ewma +300 +1 /,
};

/** Runs a command line in a shell; `interruptOn`: Ctrl-C (SIGINT to its process group) once stdout matches. */
function run(command: string, interruptOn?: RegExp) {
  const env = { ...process.env };
  for (const name of ['KAFKA_BROKERS', 'DYNAMODB_ENDPOINT', 'SNS_ENDPOINT']) delete env[name];
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd: repo, env, detached: true });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (interruptOn !== undefined && !interrupted && interruptOn.test(stdout)) {
        interrupted = true;
        process.kill(-(child.pid as number), 'SIGINT');
      }
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      process.kill(-(child.pid as number), 'SIGKILL');
      reject(new Error(`${command} did not finish in time:\n${stdout}\n${stderr}`));
    }, 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('every command in the README runs as written', { timeout: 120_000 }, () => {
  afterAll(() => {
    for (const file of ['judged.html', 'judged.csv'])
      if (existsSync(`${repo}${file}`)) rmSync(`${repo}${file}`);
  });

  it('is a front page: at most 250 lines, with deploy, cost and the test time', () => {
    expect(README.split('\n').length).toBeLessThanOrEqual(251);
    expect(README).toContain('npx cdk deploy --no-notices');
    // Not in a code block (nothing to run without a stack): named in the text.
    expect(README).toContain('`npx cdk destroy --no-notices` removes the stack');
    expect(README).toMatch(/\$0\.0041 per million readings/);
    expect(README).toMatch(/`npm test` runs the whole suite[^.]*\d+ to \d+ min measured/);
  });

  it('knows every command of the README', () => {
    expect(COMMANDS.length).toBeGreaterThan(4);
    const known = [...Object.keys(EXPECTED), ...Object.keys(CHECKED_ELSEWHERE)];
    expect(COMMANDS.filter((c) => !known.includes(c))).toEqual([]);
    expect(known.filter((c) => !COMMANDS.includes(c))).toEqual([]);
  });

  // Side by side: each command has its own ports, services and output files; the check of
  // the plot they write runs after them all (vitest runs the next plain test once a run of
  // concurrent ones has finished).
  it.concurrent.each(Object.keys(EXPECTED))('%s', async (command) => {
    // `npm start` alone runs for 45 s: Ctrl-C after an anomaly and a status line, as a user would.
    const interrupted = command === 'npm start';
    const result = await run(command, interrupted ? /ANOMALY[\s\S]*^\[\d\d:\d\d\] /m : undefined);
    // After Ctrl-C, npm itself ends by the signal (a terminal shows exit status 130); what the
    // user sees is the pipeline stopping cleanly with its summary.
    if (interrupted) expect(result.stdout).toContain('Stopping (Ctrl-C again to quit at once)');
    else expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(EXPECTED[command] as RegExp);
    // No warnings or stack traces on the way (npm's own lines excepted).
    expect(result.stderr).not.toMatch(/Warning|\n\s+at /);
  });

  it('the backtest plot is one offline file', () => {
    const html = readFileSync(`${repo}judged.html`, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });
});

/**
 * Every command of docs/: run here when it runs offline in seconds, else the test (or the
 * reason) that covers it. A new command in a page fails the first test until it is placed.
 */
const DOCS = readdirSync(`${repo}docs`)
  .filter((f) => f.endsWith('.md'))
  .map((f) => ({
    page: `docs/${f}`,
    commands: shellCommands(readFileSync(`${repo}docs/${f}`, 'utf8')),
  }));

const DOCS_RUN: Readonly<Record<string, RegExp>> = {
  'npm run parity -- --input test/fixtures/parity/seed-sample.csv --flink-output test/fixtures/parity/seed-sample-flink.out':
    /match 3 exactly, 0 by value · ours only 0 · theirs only 0\nparity: the outputs agree/,
  'npm run backtest -- --input test/fixtures/parity/seed-sample.csv --evaluation window-close --flink-lines -':
    /ANOMALY → sensor_1: value=150\.0, avg=59\.21\nANOMALY → sensor_1: value=180\.0, avg=112\.5\nANOMALY → sensor_1: value=45\.0, avg=112\.5\n/,
  'npm run backtest -- --input examples/readings.csv --detector ewma --output judged.csv --plot judged.html':
    /default detector: ewma[\s\S]*wrote judged\.csv \(752 rows\), judged\.html \(5 sensors\)/,
  'npm run backtest -- --input examples/readings.csv --rules examples/detector-rules.json':
    /3 per-sensor rule\(s\)/,
  'npm run rules -- validate examples/plant.json':
    /^examples\/plant\.json: valid: default adaptive/m,
  'npm run rules -- validate examples/alerting.json':
    /^examples\/alerting\.json: valid: default robust 5σ, 1 rule, 2 alert group rules, 2 maintenance windows$/m,
  'npm run evaluate -- --help': /^Usage: npm run evaluate -- \[options\]/m,
  'npm run backtest -- --input examples/readings.csv --feedback examples/feedback.jsonl':
    /feedback: 1 verdict\(s\) replayed at their times[\s\S]*hugeScale_1 +threshold +151 +54 /,
};

const DOCS_ELSEWHERE: Readonly<Record<string, string>> = {
  'npx cdk synth --no-notices': 'test/infra/cli.test.ts',
  'npx cdk destroy --no-notices':
    'needs a deployed stack; test/infra/docs.test.ts checks the quote',
  ...Object.fromEntries(
    Object.values(DEPLOY_EXAMPLES).map((e) => [
      cdkCommand('deploy', e.context).replace(/\\\n\s*/g, ''),
      'needs an account: test/infra/ synthesizes each documented context (msk.test.ts, self-managed.test.ts, ...), test/infra/docs.test.ts checks each quote',
    ]),
  ),
  'npm run bench -- --only dynamodb,fleet':
    'minutes of benchmark; bench/results/latest.md is its committed output',
  'kafka-topics.sh --bootstrap-server $BROKERS --create --topic sensor-data.by-sensor --partitions 16 --replication-factor 3':
    "needs a Kafka cluster and Kafka's own tools; test/integration/repartition.test.ts fills the keyed topic on the embedded Kafka",
  'npm run package':
    'test/infra/package.test.ts builds and packs the tarball and installs it into cdk init apps',
  'mkdir plant-monitoring && cd plant-monitoring': 'test/infra/package.test.ts',
  'npx cdk init app --language typescript':
    'test/infra/package.test.ts runs cdk init --generate-only (offline) and asserts the files',
  'npm install ../sensor-anomaly-detector/sensor-anomaly-detector-0.1.0.tgz':
    'test/infra/package.test.ts installs the packed tarball',
  'npm run backtest -- --input examples/plant-export-de.csv --time-column Zeit --sensor-column Messstelle --value-column Wert --detector ewma':
    'the README test runs this very command',
  'npm run backtest -- --input examples/readings.csv': 'the README test runs this very command',
  'scripts/replay/replay-dead-letters.sh "$DEAD_LETTER_QUEUE_URL" "$FUNCTION_NAME" b-1.kafka.example.com:9096 -X security.protocol=SASL_SSL -X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username=anomaly-detector -X sasl.password="$KAFKA_PASSWORD"':
    'needs an account; test/integration/replay-dead-letters.test.ts tests its jq filters against the mock cluster',
  'npm run rules -- put examples/plant.json':
    'needs the stack; test/e2e/rules-cli.test.ts puts against dynalite',
  'npm run rules -- get > now.json': 'needs the stack; test/e2e/rules-cli.test.ts',
  'npm run rules -- diff examples/plant.json': 'needs the stack; test/e2e/rules-cli.test.ts',
  'npm run rules -- delete': 'needs the stack; test/e2e/rules-cli.test.ts',
  'npm run evaluate': 'minutes on SKAB; test/unit/detector-evaluate-cli.test.ts runs the evaluator',
  'npm run feedback -- sensor-data-3-1042 not-anomaly --sensor line_1_temp --score 0.62':
    'needs the stack; test/integration/feedback.test.ts records verdicts with the CLI on dynalite',
  'npm run feedback -- sensor-data-3-1042 not-anomaly --alert alert.json --note "valve test"':
    'needs the stack and an alert; test/integration/feedback.test.ts passes an SNS-delivered alert with --alert and --note',
  'npm run feedback -- list --sensor line_1_temp':
    'needs the stack; test/integration/feedback.test.ts',
  'npm run feedback -- delete sensor-data-3-1042':
    'needs the stack; test/integration/feedback.test.ts',
  'curl --aws-sigv4 "aws:amz:eu-west-1:lambda" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-security-token: $AWS_SESSION_TOKEN" -H \'content-type: application/json\' -d \'{"alertId":"sensor-data-3-1042","verdict":"not-anomaly","sensorId":"line_1_temp","score":0.62}\' "${FEEDBACK_API_URL}feedback"':
    'needs a deployed API and credentials; test/integration/feedback-api.test.ts drives the handler with a function URL event',
  'npm run evaluate -- --corpus generated --copies 1 --feedback-first 3':
    'a minute of CPU; test/unit/feedback-evaluation.test.ts runs the feedback table on generated series',
  'npm run evaluate -- --skab /data/skab':
    'a path of yours; test/unit/detector-evaluate-cli.test.ts',
  'npm run evaluate -- --csv my-labelled/ --corpus csv --detectors adaptive,gaussian':
    'a folder of yours; test/unit/detector-evaluate-cli.test.ts runs exactly these options on a made-up CSV',
  'npm run evaluate -- --write-results':
    'rewrites the committed results; test/unit/detector-evaluate-cli.test.ts',
  'npm run bench': 'minutes of CPU: never inside npm test (docs/bench.md)',
  'npm run bench -- --quick': 'minutes of CPU: never inside npm test',
  'npm run bench -- --only compute,dynamodb': 'minutes of CPU: never inside npm test',
  'npm run bench -- --no-write': 'minutes of CPU: never inside npm test',
  'npm run bench -- --only window-close': 'minutes of CPU: never inside npm test',
  'npx tsx bench/profile.ts [json|csv] [handler|floor] [iterations]': 'a profiling tool, by hand',
  'npx tsx bench/profile-dynamodb.ts': 'a profiling tool, by hand',
  'docker compose up -d': 'needs a Docker engine (none on this machine)',
  'scripts/localstack-deploy.sh':
    'needs Docker and LocalStack; test/infra/localstack.test.ts synthesizes its stack',
  'scripts/localstack-run.sh': 'needs Docker and LocalStack',
  'FC_SEED=1449492525 FC_PATH="8:1:1:3" npx vitest run test/reliability/laws-memory.test.ts -t "faults"':
    'a replay of a failing case; the law runs in npm test',
  'npm run soak': 'ten minutes: npm run test:long runs a 4-minute soak in CI',
  'npm run soak -- --minutes 30 --rate 500 --sensors 200': 'half an hour, by hand',
};

describe('every command in docs/ runs as written, or is covered elsewhere', {
  timeout: 120_000,
}, () => {
  afterAll(() => {
    for (const file of ['judged.html', 'judged.csv'])
      if (existsSync(`${repo}${file}`)) rmSync(`${repo}${file}`);
  });

  it('knows every command of docs/', () => {
    const all = DOCS.flatMap((d) => d.commands.map((c) => `${d.page}: ${c}`));
    expect(all.length).toBeGreaterThan(20);
    const unknown = all.filter((line) => {
      const command = line.slice(line.indexOf(': ') + 2);
      return !(command in DOCS_RUN) && !(command in DOCS_ELSEWHERE);
    });
    expect(unknown).toEqual([]);
    const commands = new Set(DOCS.flatMap((d) => d.commands));
    expect(Object.keys(DOCS_RUN).filter((c) => !commands.has(c))).toEqual([]);
  });

  // Side by side, as the README's: each has its own output files.
  it.concurrent.each(Object.keys(DOCS_RUN))('%s', async (command) => {
    const result = await run(command);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(DOCS_RUN[command] as RegExp);
    expect(result.stderr).not.toMatch(/Warning|\n\s+at /);
  });
});
