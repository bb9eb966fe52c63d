import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ConfigError, parseRulesFile, type RulesFile } from '../../functions/config.ts';
import type { DetectorSpec } from '../../functions/core/detectors.ts';
import { RULES_REFRESH_MS } from '../../functions/live-rules.ts';
import { localDynamoDbClient } from '../embedded/clients.ts';
import { describeSocketError } from '../embedded/reachable.ts';
import { helpLines, type OptionDoc, parseFlags, UsageError } from '../flags/parse-flags.ts';
import { LOCAL_TABLE_NAME } from '../pipeline/local-detector.ts';
import { RulesVersionConflict, RulesWriter } from './rules-writer.ts';

/** The stack name the CDK app deploys by default (infra/config.ts `stackName`). */
export const DEFAULT_STACK = 'SensorAnomalyDetector';
/** The document must fit one item (400 KB with the other attributes): keep a margin. */
export const MAX_DOCUMENT_BYTES = 350 * 1024;

export const RULES_OPTION_DOCS: readonly OptionDoc[] = [
  { flag: 'table', arg: 'NAME', meaning: "the detector's table (the stack output TableName)" },
  {
    flag: 'stack',
    arg: 'NAME',
    meaning: 'find the table of this stack among your tables (ListTables), without --table',
    defaultText: DEFAULT_STACK,
  },
  {
    flag: 'endpoint',
    arg: 'URL',
    meaning: `a local DynamoDB, e.g. the one npm start prints (table ${LOCAL_TABLE_NAME} unless --table)`,
  },
  { flag: 'region', arg: 'R', meaning: 'AWS region', defaultText: 'AWS_REGION or your profile' },
];

export const RULES_HELP = `Usage: npm run rules -- COMMAND [FILE] [options]

Reads and writes the detector's rules document in its DynamoDB table (docs/rules.md), with
the AWS credentials and region of your shell. A running function picks a change up within
${RULES_REFRESH_MS / 1000} s, without a redeploy.

Commands:
  validate FILE               check a rules file as put would (no AWS access); - reads stdin
  get                         print the stored document (stdout) and its version (stderr)
  put FILE                    validate FILE, then store it as the next version
  diff FILE                   compare FILE with the stored document (exit 0 same, 1 different)
  delete                      remove the stored document: the deployed rules apply again

${helpLines(RULES_OPTION_DOCS, {})}
  -h, --help                  this help

Exit codes: 0 done, 1 failed (invalid file, AWS error, a concurrent change), 2 usage error;
diff: 0 same, 1 different, 2 anything else.

Examples:
  npm run rules -- validate plant.json
  npm run rules -- put plant.json --stack SensorAnomalyDetector
  npm run rules -- get --table SensorAnomalyDetector-DetectorWindowTable1A2B3C4D-XYZ > now.json
  npm run rules -- put plant.json --endpoint http://127.0.0.1:PORT     (a running npm start)
`;

export interface RulesCliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** @default now */
  readonly now?: () => Date;
  /** Who `put` records. @default user@host */
  readonly who?: string;
}

type Command = 'validate' | 'get' | 'put' | 'diff' | 'delete';
const COMMANDS: readonly Command[] = ['validate', 'get', 'put', 'diff', 'delete'];
const NEEDS_FILE: readonly Command[] = ['validate', 'put', 'diff'];

interface Parsed {
  readonly command: Command;
  readonly file?: string;
  readonly table?: string;
  readonly stack: string;
  /** Whether --stack was given (with --endpoint, the local table is the default). */
  readonly stackGiven: boolean;
  readonly endpoint?: string;
  readonly region?: string;
}

/** Exit code 1 with one line: what went wrong, in the user's terms. */
class Failure extends Error {
  override readonly name = 'Failure';
}

/** Runs `npm run rules -- ARGS`; returns the exit code. */
export async function runRulesCli(argv: readonly string[], io: RulesCliIo): Promise<number> {
  let parsed: Parsed;
  try {
    const p = parseArgs(argv);
    if (p === 'help') {
      io.out(RULES_HELP);
      return 0;
    }
    parsed = p;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`${error.message}\nSee: npm run rules -- --help\n`);
    return 2;
  }
  const failed = parsed.command === 'diff' ? 2 : 1;
  try {
    return await run(parsed, io);
  } catch (error) {
    if (error instanceof Failure || error instanceof ConfigError) {
      io.err(`${error.message}\n`);
      return failed;
    }
    io.err(`${awsProblem(error, parsed)}\n`);
    return failed;
  }
}

function parseArgs(argv: readonly string[]): Parsed | 'help' {
  const stringOptions = RULES_OPTION_DOCS.map((d) => d.flag);
  const positionals: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    // A lone `-` is a FILE: standard input.
    if (arg.startsWith('-') && arg !== '-') {
      flags.push(arg);
      const name = arg.replace(/^--?/, '');
      if (!arg.includes('=') && stringOptions.includes(name) && i + 1 < argv.length) {
        flags.push(argv[i + 1] as string);
        i += 1;
      }
    } else positionals.push(arg);
  }
  const values = parseFlags(flags, stringOptions);
  if (values.help === true) return 'help';
  const [command, file, extra] = positionals;
  if (command === undefined) throw new UsageError(`a command is needed: ${COMMANDS.join(', ')}`);
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(`unknown command "${command}" (one of ${COMMANDS.join(', ')})`);
  }
  const c = command as Command;
  if (NEEDS_FILE.includes(c) && file === undefined) {
    throw new UsageError(`${c} needs a FILE: npm run rules -- ${c} FILE`);
  }
  if ((!NEEDS_FILE.includes(c) && file !== undefined) || extra !== undefined) {
    throw new UsageError(`unexpected argument "${NEEDS_FILE.includes(c) ? extra : file}"`);
  }
  const text = (key: string) => {
    const v = values[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${key}: needs a value`);
    return v.trim();
  };
  const endpoint = text('endpoint');
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) {
    throw new UsageError(`--endpoint: a URL such as http://127.0.0.1:8000 (got "${endpoint}")`);
  }
  const table = text('table');
  const stack = text('stack');
  if (table !== undefined && stack !== undefined) {
    throw new UsageError('--table and --stack exclude each other');
  }
  const region = text('region');
  return {
    command: c,
    ...(file === undefined ? {} : { file }),
    ...(table === undefined ? {} : { table }),
    stack: stack ?? DEFAULT_STACK,
    stackGiven: stack !== undefined,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
  };
}

async function run(p: Parsed, io: RulesCliIo): Promise<number> {
  const file = p.file === undefined ? undefined : readRules(p.file);
  if (p.command === 'validate') {
    io.out(`${p.file}: valid: ${summary(file as LoadedFile)}\n`);
    return 0;
  }
  const client =
    p.endpoint === undefined
      ? new DynamoDBClient(p.region === undefined ? {} : { region: p.region })
      : localDynamoDbClient(p.endpoint, {
          maxAttempts: 1,
          ...(p.region === undefined ? {} : { region: p.region }),
        });
  try {
    const tableName =
      p.table ??
      (p.endpoint !== undefined && !p.stackGiven ? LOCAL_TABLE_NAME : await findTable(client, p));
    const writer = new RulesWriter({ client, tableName });
    // Strongly consistent: a put right after another one's must see its version.
    const { stored, itemVersion } = await writer.readItem({ consistent: true });
    const where = `table ${tableName}`;
    switch (p.command) {
      case 'get': {
        if (stored === null) {
          io.err(`no rules document in ${where}: the function judges with its deployed rules\n`);
          return 0;
        }
        io.err(`version ${stored.version}, by ${stored.updatedBy} at ${stored.updatedAt}\n`);
        io.out(stored.document.endsWith('\n') ? stored.document : `${stored.document}\n`);
        return 0;
      }
      case 'diff': {
        const f = file as LoadedFile;
        const before = stored === null ? [] : pretty(stored.document);
        const lines = lineDiff(before, pretty(f.text));
        if (!lines.some((l) => l.startsWith('-') || l.startsWith('+'))) {
          io.out(`${p.file} is the stored document (version ${stored?.version})\n`);
          return 0;
        }
        io.out(
          `--- ${stored === null ? 'no stored document' : `stored version ${stored.version}`}\n+++ ${p.file}\n`,
        );
        io.out(`${lines.join('\n')}\n`);
        return 1;
      }
      case 'put': {
        const f = file as LoadedFile;
        if (stored !== null && stored.document === f.text) {
          io.out(`unchanged: version ${stored.version} in ${where} already is ${p.file}\n`);
          return 0;
        }
        const updatedAt = (io.now ?? (() => new Date()))().toISOString();
        const updatedBy = io.who ?? whoAmI(io.env);
        const written = await writer
          .put(f.text, itemVersion, { updatedAt, updatedBy })
          .catch(rethrowConflict);
        io.out(
          `stored ${p.file} as version ${written.version} in ${where} (by ${updatedBy} at ${updatedAt}): ${summary(f)}\n` +
            `running detectors use it within ${RULES_REFRESH_MS / 1000} s (npm start: its --rules-refresh-seconds)\n`,
        );
        return 0;
      }
      case 'delete': {
        if (stored === null) {
          io.out(`no rules document in ${where}: nothing to delete\n`);
          return 0;
        }
        const updatedAt = (io.now ?? (() => new Date()))().toISOString();
        const updatedBy = io.who ?? whoAmI(io.env);
        await writer
          .delete(itemVersion ?? stored.version, { updatedAt, updatedBy })
          .catch(rethrowConflict);
        io.out(
          `deleted version ${stored.version} from ${where}: the deployed rules apply within ${RULES_REFRESH_MS / 1000} s\n`,
        );
        return 0;
      }
      default:
        throw new Failure(`unknown command ${p.command}`);
    }
  } finally {
    client.destroy();
  }
}

interface LoadedFile extends RulesFile {
  readonly text: string;
}

function readRules(path: string): LoadedFile {
  let text: string;
  try {
    // `-`: standard input (`npm run rules -- get | jq … | npm run rules -- put -`).
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Failure(`rules file "${path}": cannot read it (${code})`);
  }
  if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES) {
    throw new Failure(
      `rules file "${path}": ${Buffer.byteLength(text)} bytes, more than the ${MAX_DOCUMENT_BYTES} a table item holds with room to spare`,
    );
  }
  // parseRulesFile names the file and every bad path in one line (a ConfigError).
  return { ...parseRulesFile(text, `rules file "${path}"`), text };
}

function summary(file: RulesFile): string {
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

export function describeDetector(spec: DetectorSpec): string {
  switch (spec.kind) {
    case 'threshold':
      return `threshold ${spec.threshold}`;
    case 'adaptive':
      return `adaptive (score > ${spec.scoreThreshold})`;
    default:
      return `${spec.kind} ${spec.sigma}σ`;
  }
}

/** Who a write records: user@host, and the AWS profile when one is set. */
export function whoAmI(env: NodeJS.ProcessEnv): string {
  let user = env.USER ?? env.USERNAME ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep the variable's.
  }
  const profile = env.AWS_PROFILE === undefined ? '' : ` (profile ${env.AWS_PROFILE})`;
  return `${user}@${hostname()}${profile}`;
}

function rethrowConflict(error: unknown): never {
  if (error instanceof RulesVersionConflict) {
    throw new Failure(`${error.message}: run \`npm run rules -- get\` to see it, then try again`);
  }
  throw error;
}

/**
 * The stack's table among the account's tables: CloudFormation names a resource without an
 * explicit name `<stack name>-<logical id>-<random suffix>`, and the detector's table has the
 * logical id of its `WindowTable` construct.
 */
export async function findTable(client: DynamoDBClient, p: Pick<Parsed, 'stack'>): Promise<string> {
  const names: string[] = [];
  let start: string | undefined;
  do {
    const page = await client.send(
      new ListTablesCommand(start === undefined ? {} : { ExclusiveStartTableName: start }),
    );
    names.push(...(page.TableNames ?? []));
    start = page.LastEvaluatedTableName;
  } while (start !== undefined);
  const found = names.filter((n) => n.startsWith(`${p.stack}-`) && n.includes('WindowTable'));
  const region = await client.config.region();
  if (found.length === 1) return found[0] as string;
  if (found.length === 0) {
    throw new Failure(
      `no table of stack ${p.stack} in ${region}: give --table (the stack output TableName) or --stack/--region`,
    );
  }
  throw new Failure(`several tables of stack ${p.stack} (${found.join(', ')}): give --table`);
}

/** An AWS SDK failure in one line. */
export function awsProblem(error: unknown, p: Pick<Parsed, 'endpoint' | 'region'>): string {
  const e = error as NodeJS.ErrnoException & { name?: string; $metadata?: unknown };
  if (typeof e.code === 'string' && e.code.startsWith('E')) {
    const hint = p.endpoint === undefined ? '' : ' (is npm start running? it prints the address)';
    return `cannot reach DynamoDB${p.endpoint === undefined ? '' : ` at ${p.endpoint}`}: ${describeSocketError(e)}${hint}`;
  }
  switch (e.name) {
    case 'CredentialsProviderError':
      return `no AWS credentials in this shell (${e.message}): configure a profile or AWS_* variables`;
    case 'ResourceNotFoundException':
      return `table not found: ${e.message} (check --table and --region)`;
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
      return `not allowed: ${e.message} (docs/rules.md lists the IAM policy operators need)`;
    default:
      if (/region/i.test(e.message ?? '') && p.region === undefined)
        return `${e.message}: give --region or set AWS_REGION`;
      return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message ?? String(error)}`;
  }
}

/** A JSON document one key per line, for diff. */
function pretty(text: string): string[] {
  try {
    return JSON.stringify(JSON.parse(text), null, 2).split('\n');
  } catch {
    return text.split('\n');
  }
}

/** A line diff (longest common subsequence): ' ' same, '-' only before, '+' only after. */
export function lineDiff(a: readonly string[], b: readonly string[]): string[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      const row = lcs[i] as number[];
      row[j] =
        a[i] === b[j]
          ? ((lcs[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((lcs[i + 1] as number[])[j] as number, row[j + 1] as number);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i += 1;
      j += 1;
    } else if (
      j < m &&
      (i >= n || ((lcs[i] as number[])[j + 1] as number) >= ((lcs[i + 1] as number[])[j] as number))
    ) {
      out.push(`+ ${b[j]}`);
      j += 1;
    } else {
      out.push(`- ${a[i]}`);
      i += 1;
    }
  }
  return out;
}
