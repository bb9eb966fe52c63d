import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTableInput } from '../../functions/adapters/dynamodb-table.ts';
import { localDynamoDbClient } from '../../local/embedded/clients.ts';
import {
  type EmbeddedDynamoDb,
  ensureTable,
  startDynamoDb,
} from '../../local/embedded/dynamodb.ts';
import { LOCAL_TABLE_NAME } from '../../local/pipeline/local-detector.ts';
import { runRulesCli } from '../../local/rules/rules-cli.ts';
import { runCli } from './support/run-cli.ts';

let dynamo: EmbeddedDynamoDb;
const dir = mkdtempSync(join(tmpdir(), 'rules-cli-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const GOOD = file(
  'good.json',
  JSON.stringify(
    {
      default: { kind: 'threshold', threshold: 40 },
      rules: [{ topic: 'pumps', match: 'sensor_*', detector: { kind: 'threshold', threshold: 5 } }],
    },
    null,
    2,
  ),
);
const OTHER = file('other.json', '[{"match": "sensor_1", "detector": {"kind": "zscore"}}]');
const MISSPELT = file(
  'misspelt.json',
  '{"rules": [{"match": "sensor_*", "detector": {"kind": "ewma", "sigmaa": 3}}]}',
);

/** The CLI in this process, its output collected. */
async function rules(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runRulesCli(argv, {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    env: {},
    who: 'alice@laptop',
    now: () => new Date('2026-12-01T12:00:00Z'),
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dynamo = await startDynamoDb();
  const client = localDynamoDbClient(dynamo.endpoint);
  await ensureTable(client, LOCAL_TABLE_NAME);
  client.destroy();
});
afterAll(async () => {
  await dynamo.close();
});

describe('npm run rules: validate', () => {
  it('accepts a valid file and summarises it', async () => {
    const r = await rules('validate', GOOD);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`${GOOD}: valid: default threshold 40, 1 rule (1 by topic)\n`);
  });

  it.each([
    [MISSPELT, /^rules file ".*misspelt.json": rules\.0\.detector: .*sigmaa.*\n$/],
    [file('broken.json', '{"rules": ['), /^rules file ".*broken.json": not valid JSON/],
    [join(dir, 'missing.json'), /^rules file ".*missing.json": cannot read it \(ENOENT\)\n$/],
  ])('refuses %s with one line and exit code 1', async (path, line) => {
    const r = await rules('validate', path);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(line);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each([
    [[], /a command is needed/],
    [['validat', GOOD], /unknown command "validat"/],
    [['put'], /put needs a FILE/],
    [['get', GOOD], /unexpected argument/],
    [['get', '--tabel', 'x'], /unknown option --tabel \(did you mean --table\?\)/],
    [['get', '--table', 'a', '--stack', 'b'], /exclude each other/],
  ])('a usage mistake %j is exit code 2 with a pointer to --help', async (argv, message) => {
    const r = await rules(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('See: npm run rules -- --help');
  });
});

describe('npm run rules against a local DynamoDB (dynalite)', () => {
  it('put validates, stores versions with who and when; get and diff read them back; delete removes', async () => {
    const at = ['--endpoint', dynamo.endpoint];
    // Nothing stored yet
    expect(await rules('get', ...at)).toMatchObject({ code: 0, stdout: '' });
    expect((await rules('get', ...at)).stderr).toMatch(
      /no rules document in table .*deployed rules/,
    );
    // An invalid file is refused before anything is written
    const refused = await rules('put', MISSPELT, ...at);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect((await rules('get', ...at)).stdout).toBe('');
    // put, get
    const put = await rules('put', GOOD, ...at);
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toContain(
      `stored ${GOOD} as version 1 in table ${LOCAL_TABLE_NAME} (by alice@laptop at 2026-12-01T12:00:00.000Z)`,
    );
    expect(put.stdout).toContain('within 30 s');
    const got = await rules('get', ...at);
    expect(got.stderr).toBe('version 1, by alice@laptop at 2026-12-01T12:00:00.000Z\n');
    // The document as written, so `get > file.json` gives the file back.
    expect(got.stdout.trim()).toBe(
      JSON.stringify(
        {
          default: { kind: 'threshold', threshold: 40 },
          rules: [
            { topic: 'pumps', match: 'sensor_*', detector: { kind: 'threshold', threshold: 5 } },
          ],
        },
        null,
        2,
      ),
    );
    // the same file again: nothing written
    expect((await rules('put', GOOD, ...at)).stdout).toMatch(/^unchanged: version 1/);
    // diff
    expect(await rules('diff', GOOD, ...at)).toMatchObject({ code: 0 });
    const diff = await rules('diff', OTHER, ...at);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain(`--- stored version 1\n+++ ${OTHER}`);
    expect(diff.stdout).toContain('\n-     "threshold": 40\n');
    expect(diff.stdout).toContain('\n+     "match": "sensor_1",\n');
    // a second version, then delete
    expect((await rules('put', OTHER, ...at)).stdout).toMatch(/as version 2/);
    expect((await rules('delete', ...at)).stdout).toMatch(/deleted version 2 .*deployed rules/);
    expect((await rules('get', ...at)).stdout).toBe('');
  });

  it('finds the table of a stack by name, and says so in one line when there is none', async () => {
    const client = localDynamoDbClient(dynamo.endpoint);
    await client.send(
      new CreateTableCommand(createTableInput('Plant-DetectorWindowTable1A2B3C4D-Q1W2E3R4T5Y6')),
    );
    client.destroy();
    const put = await rules('put', OTHER, '--endpoint', dynamo.endpoint, '--stack', 'Plant');
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toContain('in table Plant-DetectorWindowTable1A2B3C4D-Q1W2E3R4T5Y6');
    const none = await rules('get', '--endpoint', dynamo.endpoint, '--stack', 'Nope');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^no table of stack Nope in us-east-1: give --table/);
  });

  it('says in one line that a local DynamoDB is not there', async () => {
    const r = await rules('get', '--endpoint', 'http://127.0.0.1:9');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^cannot reach DynamoDB at http:\/\/127\.0\.0\.1:9: .*npm start/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('runs as `npm run rules` does (tsx), with its exit codes', async () => {
    const help = await runCli('local/cli/rules.ts', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm run rules -- COMMAND [FILE] [options]');
    const bad = await runCli('local/cli/rules.ts', [
      'put',
      MISSPELT,
      '--endpoint',
      dynamo.endpoint,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const good = await runCli('local/cli/rules.ts', ['put', GOOD, '--endpoint', dynamo.endpoint]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/stored .* as version \d+ in table sensor-anomaly-windows-local/);
  });
});
