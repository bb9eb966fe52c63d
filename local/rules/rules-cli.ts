import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConfigError } from '../../functions/config.ts';
import { RULES_REFRESH_MS } from '../../functions/live-rules.ts';
import { localDynamoDbClient } from '../embedded/clients.ts';
import {
  parseRulesOptions,
  RULES_HELP,
  type RulesOptions,
  UsageError,
} from '../flags/rules-options.ts';
import { LOCAL_TABLE_NAME } from '../pipeline/local-detector.ts';
import { lineDiff, prettyLines } from './line-diff.ts';
import { awsProblem, findStackTable, whoAmI } from './rules-aws.ts';
import { type LoadedRules, RulesFailure, readRulesSource, rulesSummary } from './rules-source.ts';
import { RulesVersionConflict, RulesWriter } from './rules-writer.ts';

// Where these lived before the command was split by job; importers keep working.
export { DEFAULT_STACK, RULES_HELP, RULES_OPTION_DOCS } from '../flags/rules-options.ts';
export { describeDetector } from './describe-detector.ts';
export { lineDiff } from './line-diff.ts';
export { MAX_DOCUMENT_BYTES } from './rules-source.ts';

export interface RulesCliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** @default now */
  readonly now?: () => Date;
  /** Who `put` records. @default user@host */
  readonly who?: string;
}

/** Runs `npm run rules -- ARGS`; returns the exit code. */
export async function runRulesCli(argv: readonly string[], io: RulesCliIo): Promise<number> {
  let parsed: RulesOptions;
  try {
    const p = parseRulesOptions(argv);
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
    if (error instanceof RulesFailure || error instanceof ConfigError) {
      io.err(`${error.message}\n`);
      return failed;
    }
    io.err(`${awsProblem(error, parsed)}\n`);
    return failed;
  }
}

async function run(p: RulesOptions, io: RulesCliIo): Promise<number> {
  const file = p.file === undefined ? undefined : readRulesSource(p.file);
  if (p.command === 'validate') {
    io.out(`${p.file}: valid: ${rulesSummary(file as LoadedRules)}\n`);
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
      (p.endpoint !== undefined && !p.stackGiven
        ? LOCAL_TABLE_NAME
        : await findStackTable(client, p.stack));
    const writer = new RulesWriter({ client, tableName });
    // Strongly consistent: a put right after another one's must see its version.
    const { stored, itemVersion } = await writer.readItem({ consistent: true });
    const where = `table ${tableName}`;
    const now = () => (io.now ?? (() => new Date()))().toISOString();
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
        const f = file as LoadedRules;
        const before = stored === null ? [] : prettyLines(stored.document);
        const lines = lineDiff(before, prettyLines(f.text));
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
        const f = file as LoadedRules;
        if (stored !== null && stored.document === f.text) {
          io.out(`unchanged: version ${stored.version} in ${where} already is ${p.file}\n`);
          return 0;
        }
        const updatedAt = now();
        const updatedBy = io.who ?? whoAmI(io.env);
        const written = await writer
          .put(f.text, itemVersion, { updatedAt, updatedBy })
          .catch(rethrowConflict);
        io.out(
          `stored ${p.file} as version ${written.version} in ${where} (by ${updatedBy} at ${updatedAt}): ${rulesSummary(f)}\n` +
            `running detectors use it within ${RULES_REFRESH_MS / 1000} s (npm start: its --rules-refresh-seconds)\n`,
        );
        return 0;
      }
      case 'delete': {
        if (stored === null) {
          io.out(`no rules document in ${where}: nothing to delete\n`);
          return 0;
        }
        const updatedAt = now();
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
        throw new RulesFailure(`unknown command ${p.command}`);
    }
  } finally {
    client.destroy();
  }
}

function rethrowConflict(error: unknown): never {
  if (error instanceof RulesVersionConflict) {
    throw new RulesFailure(
      `${error.message}: run \`npm run rules -- get\` to see it, then try again`,
    );
  }
  throw error;
}
