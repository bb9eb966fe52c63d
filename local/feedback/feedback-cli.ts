import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  FEEDBACK_BOUNDS,
  FEEDBACK_VERDICTS,
  type FeedbackInput,
  FeedbackInputError,
  type FeedbackRecord,
  feedbackFactor,
  feedbackRecord,
} from '../../functions/core/feedback.ts';
import { FeedbackWriter } from '../../functions/feedback/feedback-writer.ts';
import { RULES_REFRESH_MS } from '../../functions/live-rules.ts';
import { localDynamoDbClient } from '../embedded/clients.ts';
import { helpLines, type OptionDoc, parseFlags, UsageError } from '../flags/parse-flags.ts';
import {
  RULES_OPTION_DOCS,
  type TableLocation,
  tableLocation,
  textOptions,
} from '../flags/rules-options.ts';
import { LOCAL_TABLE_NAME } from '../pipeline/local-detector.ts';
import { awsProblem, findStackTable, whoAmI } from '../rules/rules-aws.ts';
import { RulesFailure } from '../rules/rules-source.ts';

const VERDICT_OPTION_DOCS: readonly OptionDoc[] = [
  { flag: 'sensor', arg: 'ID', meaning: 'the sensor of the alert (read from --alert when given)' },
  {
    flag: 'score',
    arg: 'S',
    meaning:
      "the alert's score in [0, 1] (from --alert: its score, or deviation / (deviation + limit))",
    defaultText: 'none: the verdict moves the sensor one step',
  },
  {
    flag: 'alert',
    arg: 'FILE',
    meaning: 'the alert as delivered (its JSON message or log line); - reads stdin',
  },
  { flag: 'note', arg: 'TEXT', meaning: 'why, for the people who read the list' },
  {
    flag: 'expires-days',
    arg: 'N',
    meaning: 'the verdict stops applying after N days',
    defaultText: String(FEEDBACK_BOUNDS.defaultLifetimeMs / 86_400_000),
  },
];

export const FEEDBACK_HELP = `Usage: npm run feedback -- ALERT_ID not-anomaly|missed [options]
       npm run feedback -- list [--sensor ID] [--json]
       npm run feedback -- delete ALERT_ID

Records an operator's verdict on an alert in the detector's DynamoDB table (docs/feedback.md),
with the AWS credentials and region of your shell; running detectors follow it within ${RULES_REFRESH_MS / 1000} s.
After "not-anomaly" the sensor (that pattern of it, when the alert names one) needs a score
just above that alert's; after "missed", one just below that reading's; never beyond ${FEEDBACK_BOUNDS.maxRaise}× or
below ${FEEDBACK_BOUNDS.minLower}× the detector's own limit. Delete the verdict to undo it.

ALERT_ID is the "Alert id" of the alert (<topic>-<partition>-<offset>); for "missed", the id of
the reading that should have been one.

${helpLines([...VERDICT_OPTION_DOCS, ...RULES_OPTION_DOCS], {})}
  --json                      list: one JSON verdict per line
  -h, --help                  this help

Exit codes: 0 done, 1 failed (AWS error, nothing to delete), 2 usage error.

Examples:
  npm run feedback -- sensor-data-3-1042 not-anomaly --sensor line_1_temp --score 0.62
  npm run feedback -- sensor-data-3-1042 not-anomaly --alert alert.json --note "valve test"
  npm run feedback -- list --sensor line_1_temp
  npm run feedback -- delete sensor-data-3-1042 --endpoint http://127.0.0.1:PORT   (npm start)
`;

export interface FeedbackCliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** @default now */
  readonly now?: () => Date;
  /** Who a verdict records. @default user@host */
  readonly who?: string;
}

type Parsed =
  | { readonly command: 'record'; readonly input: FeedbackInput; readonly where: TableLocation }
  | {
      readonly command: 'list';
      readonly sensor?: string;
      readonly json: boolean;
      readonly where: TableLocation;
    }
  | { readonly command: 'delete'; readonly alertId: string; readonly where: TableLocation };

/** Runs `npm run feedback -- ARGS`; returns the exit code. */
export async function runFeedbackCli(argv: readonly string[], io: FeedbackCliIo): Promise<number> {
  let parsed: Parsed;
  try {
    const p = parseArgs(argv);
    if (p === 'help') {
      io.out(FEEDBACK_HELP);
      return 0;
    }
    parsed = p;
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof FeedbackInputError)) throw error;
    io.err(`${error.message}\nSee: npm run feedback -- --help\n`);
    return 2;
  }
  try {
    return await run(parsed, io);
  } catch (error) {
    if (error instanceof FeedbackInputError) {
      io.err(`${error.message}\n`);
      return 2;
    }
    if (error instanceof RulesFailure || (error instanceof Error && error.name === 'Failure')) {
      io.err(`${error.message}\n`);
      return 1;
    }
    // The rules CLI's wording, which reads only where the table is (endpoint, region).
    io.err(`${awsProblem(error, { command: 'get', ...parsed.where })}\n`);
    return 1;
  }
}

function parseArgs(argv: readonly string[]): Parsed | 'help' {
  const stringOptions = [...VERDICT_OPTION_DOCS, ...RULES_OPTION_DOCS].map((d) => d.flag);
  const positionals: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg.startsWith('-') && arg !== '-') {
      flags.push(arg);
      const name = arg.replace(/^--?/, '');
      if (!arg.includes('=') && stringOptions.includes(name) && i + 1 < argv.length) {
        flags.push(argv[i + 1] as string);
        i += 1;
      }
    } else positionals.push(arg);
  }
  const values = parseFlags(flags, stringOptions, ['json']);
  if (values.help === true) return 'help';
  const text = textOptions(values);
  const where = tableLocation(text);
  const [first, second, extra] = positionals;
  const sensor = text('sensor');
  const only = (allowed: readonly string[], command: string) => {
    for (const key of ['score', 'alert', 'note', 'expiresDays', 'sensor', 'json']) {
      if (values[key] !== undefined && !allowed.includes(key))
        throw new UsageError(
          `${command} takes no --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
        );
    }
  };
  if (first === undefined)
    throw new UsageError('give ALERT_ID not-anomaly|missed, list, or delete ALERT_ID');
  if (first === 'list') {
    if (second !== undefined) throw new UsageError(`unexpected argument "${second}"`);
    only(['sensor', 'json'], 'list');
    return {
      command: 'list',
      ...(sensor === undefined ? {} : { sensor }),
      json: values.json === true,
      where,
    };
  }
  if (first === 'delete') {
    if (second === undefined)
      throw new UsageError('delete needs the ALERT_ID: npm run feedback -- delete ALERT_ID');
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    only([], 'delete');
    return { command: 'delete', alertId: second, where };
  }
  if (second === undefined) {
    throw new UsageError(
      `what is your verdict on ${first}? npm run feedback -- ${first} ${FEEDBACK_VERDICTS.join('|')}`,
    );
  }
  if (!(FEEDBACK_VERDICTS as readonly string[]).includes(second)) {
    // The arguments the other way round are an everyday slip.
    const hint = (FEEDBACK_VERDICTS as readonly string[]).includes(first)
      ? `: the alert id comes first (npm run feedback -- ${second} ${first})`
      : ` (one of ${FEEDBACK_VERDICTS.join(', ')})`;
    throw new UsageError(`unknown verdict "${second}"${hint}`);
  }
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  only(['score', 'alert', 'note', 'expiresDays', 'sensor'], 'a verdict');
  const alertFile = text('alert');
  return {
    command: 'record',
    input: {
      alertId: first,
      verdict: second,
      ...(sensor === undefined ? {} : { sensorId: sensor }),
      ...(text('score') === undefined ? {} : { score: text('score') }),
      ...(text('note') === undefined ? {} : { note: text('note') }),
      ...(text('expiresDays') === undefined ? {} : { expiresInDays: text('expiresDays') }),
      ...(alertFile === undefined ? {} : { alert: readAlert(alertFile, first) }),
    },
    where,
  };
}

/** The alert as delivered: the SNS message's JSON, or a log line's (its fields at the top). */
function readAlert(path: string, alertId: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`--alert "${path}": cannot read it (${code})`);
  }
  let alert: unknown;
  try {
    alert = JSON.parse(text);
  } catch {
    throw new UsageError(`--alert "${path}": not JSON (give the alert's JSON message or log line)`);
  }
  alert = unwrap(alert);
  const id = (alert as { alertId?: unknown } | null)?.alertId;
  if (id !== undefined && id !== alertId)
    throw new UsageError(`--alert "${path}" is alert ${JSON.stringify(id)}, not ${alertId}`);
  return alert;
}

/**
 * The alert inside what a subscriber got: an SQS or HTTP subscriber's SNS envelope (its
 * `Message`), or the message with one body per protocol (its `sqs` JSON).
 */
function unwrap(alert: unknown): unknown {
  const a = alert as { Type?: unknown; Message?: unknown; sqs?: unknown } | null;
  const inner =
    a?.Type === 'Notification' && typeof a.Message === 'string'
      ? a.Message
      : typeof a?.sqs === 'string'
        ? a.sqs
        : undefined;
  if (inner === undefined) return alert;
  try {
    return unwrap(JSON.parse(inner));
  } catch {
    return alert;
  }
}

class Failure extends Error {
  override readonly name = 'Failure';
}

async function run(p: Parsed, io: FeedbackCliIo): Promise<number> {
  const now = (io.now ?? (() => new Date()))();
  // Validated before any AWS access: a mistake costs no request.
  const record =
    p.command === 'record'
      ? feedbackRecord(p.input, io.who ?? whoAmI(io.env), now.getTime())
      : null;
  const w = p.where;
  const client =
    w.endpoint === undefined
      ? new DynamoDBClient(w.region === undefined ? {} : { region: w.region })
      : localDynamoDbClient(w.endpoint, {
          maxAttempts: 1,
          ...(w.region === undefined ? {} : { region: w.region }),
        });
  try {
    const tableName =
      w.table ??
      (w.endpoint !== undefined && !w.stackGiven
        ? LOCAL_TABLE_NAME
        : await findStackTable(client, w.stack));
    const writer = new FeedbackWriter({ client, tableName });
    switch (p.command) {
      case 'record': {
        const r = record as FeedbackRecord;
        await writer.put(r);
        const { records } = await writer.list({ consistent: true });
        const mine = records
          .filter((x) => x.sensorId === r.sensorId && x.expiresAtMs > now.getTime())
          .sort((a, b) => a.recordedAtMs - b.recordedAtMs);
        const f = feedbackFactor(mine, 1);
        io.out(
          `recorded ${r.verdict} on ${r.alertId} (sensor ${r.sensorId}${r.score === undefined ? ', no score: one step' : `, score ${r.score.toFixed(3)}`}) in table ${tableName}, until ${new Date(r.expiresAtMs).toISOString()}\n` +
            `${r.sensorId}: ${mine.length} verdict${mine.length === 1 ? '' : 's'}; it now needs ${f.toFixed(3)}× its detector's limit (for threshold, zscore, ewma: a deviation above ${f.toFixed(3)}× the limit)\n` +
            `running detectors follow within ${RULES_REFRESH_MS / 1000} s; undo: npm run feedback -- delete ${r.alertId}\n`,
        );
        return 0;
      }
      case 'list': {
        const { records, invalid, truncated } = await writer.list({ consistent: true });
        const shown = records
          .filter((r) => p.sensor === undefined || r.sensorId === p.sensor)
          .sort((a, b) => a.recordedAtMs - b.recordedAtMs);
        for (const r of shown)
          io.out(p.json ? `${JSON.stringify(r)}\n` : `${listLine(r, now.getTime())}\n`);
        io.err(
          `${shown.length} verdict${shown.length === 1 ? '' : 's'} in table ${tableName}${invalid > 0 ? ` (${invalid} item(s) that are not verdicts skipped)` : ''}${truncated ? ' (more than the detector reads: delete old ones)' : ''}\n`,
        );
        return 0;
      }
      case 'delete': {
        const gone = await writer.delete(p.alertId);
        if (gone === null)
          throw new Failure(
            `no verdict on ${p.alertId} in table ${tableName} (npm run feedback -- list shows them)`,
          );
        io.out(
          `deleted the ${gone.verdict} verdict on ${p.alertId} (sensor ${gone.sensorId}): running detectors drop it within ${RULES_REFRESH_MS / 1000} s\n`,
        );
        return 0;
      }
    }
  } finally {
    client.destroy();
  }
}

function listLine(r: FeedbackRecord, nowMs: number): string {
  const score = r.score === undefined ? 'score -' : `score ${r.score.toFixed(3)}`;
  const state =
    r.expiresAtMs <= nowMs ? 'expired' : `until ${new Date(r.expiresAtMs).toISOString()}`;
  const note = r.note === undefined ? '' : `  "${r.note}"`;
  return `${new Date(r.recordedAtMs).toISOString()}  ${r.verdict.padEnd(11)}  ${r.alertId}  sensor ${JSON.stringify(r.sensorId)}  ${score}  by ${r.by}  ${state}${note}`;
}
