import { hostname, userInfo } from 'node:os';
import { type DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describeSocketError } from '../embedded/reachable.ts';
import type { RulesOptions } from '../flags/rules-options.ts';
import { RulesFailure } from './rules-source.ts';

/**
 * The stack's table among the account's tables: CloudFormation names a resource without an
 * explicit name `<stack name>-<logical id>-<random suffix>`, and the detector's table has the
 * logical id of its `WindowTable` construct.
 */
export async function findStackTable(client: DynamoDBClient, stack: string): Promise<string> {
  const names: string[] = [];
  let start: string | undefined;
  do {
    const page = await client.send(
      new ListTablesCommand(start === undefined ? {} : { ExclusiveStartTableName: start }),
    );
    names.push(...(page.TableNames ?? []));
    start = page.LastEvaluatedTableName;
  } while (start !== undefined);
  const found = names.filter((n) => n.startsWith(`${stack}-`) && n.includes('WindowTable'));
  const region = await client.config.region();
  if (found.length === 1) return found[0] as string;
  if (found.length === 0) {
    throw new RulesFailure(
      `no table of stack ${stack} in ${region}: give --table (the stack output TableName) or --stack/--region`,
    );
  }
  throw new RulesFailure(`several tables of stack ${stack} (${found.join(', ')}): give --table`);
}

/** Who a change is recorded as: `user@host (profile P)`. */
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

/** An AWS SDK failure in one line, with what to do. */
export function awsProblem(error: unknown, p: RulesOptions): string {
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
