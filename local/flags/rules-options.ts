import { RULES_REFRESH_MS } from '../../functions/live-rules.ts';
import { LOCAL_TABLE_NAME } from '../pipeline/local-detector.ts';
import { helpLines, type OptionDoc, parseFlags, UsageError } from './parse-flags.ts';

export { UsageError };

/** The stack name the CDK app deploys by default (infra/config.ts `stackName`). */
export const DEFAULT_STACK = 'SensorAnomalyDetector';

/** Every option of `npm run rules`: its --help is made from these. */
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

export type RulesCommand = 'validate' | 'get' | 'put' | 'diff' | 'delete';
const COMMANDS: readonly RulesCommand[] = ['validate', 'get', 'put', 'diff', 'delete'];
const NEEDS_FILE: readonly RulesCommand[] = ['validate', 'put', 'diff'];

/** Where the detector's table is: the options `npm run rules` and `npm run feedback` share. */
export interface TableLocation {
  readonly table?: string;
  readonly stack: string;
  /** Whether --stack was given (with --endpoint, the local table is the default). */
  readonly stackGiven: boolean;
  readonly endpoint?: string;
  readonly region?: string;
}

export interface RulesOptions extends TableLocation {
  readonly command: RulesCommand;
  readonly file?: string;
}

/** A string option's trimmed value, or undefined when absent; an empty one is a UsageError. */
export function textOptions(values: Readonly<Record<string, unknown>>) {
  return (key: string): string | undefined => {
    const v = values[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${key}: needs a value`);
    return v.trim();
  };
}

/** --table, --stack, --endpoint and --region, checked; throws UsageError with what to do. */
export function tableLocation(text: (key: string) => string | undefined): TableLocation {
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
    ...(table === undefined ? {} : { table }),
    stack: stack ?? DEFAULT_STACK,
    stackGiven: stack !== undefined,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
  };
}

/** `COMMAND [FILE] [options]`, options anywhere; throws UsageError with what to do. */
export function parseRulesOptions(argv: readonly string[]): RulesOptions | 'help' {
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
  const c = command as RulesCommand;
  if (NEEDS_FILE.includes(c) && file === undefined) {
    throw new UsageError(`${c} needs a FILE: npm run rules -- ${c} FILE`);
  }
  if ((!NEEDS_FILE.includes(c) && file !== undefined) || extra !== undefined) {
    throw new UsageError(`unexpected argument "${NEEDS_FILE.includes(c) ? extra : file}"`);
  }
  return {
    command: c,
    ...(file === undefined ? {} : { file }),
    ...tableLocation(textOptions(values)),
  };
}
