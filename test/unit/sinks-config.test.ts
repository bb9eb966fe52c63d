import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kafkaConfigFor } from '../../functions/adapters/kafka-anomaly-sink.ts';
import { readSecretString } from '../../functions/adapters/secret-reader.ts';
import { kafkaSinkAuth, SINK_ENV, sinkSettingsFromEnv } from '../../functions/sinks-config.ts';

describe('sink settings from the environment', () => {
  it('no variable, no sink', () => {
    expect(sinkSettingsFromEnv({})).toEqual({});
  });

  it.each([
    [{ [SINK_ENV.anomaliesTopic]: 'bad topic' }, /ANOMALIES_TOPIC: must be a Kafka topic name/],
    [{ [SINK_ENV.anomaliesTopic]: 'out' }, /ANOMALIES_KAFKA_BROKERS: must be host:port/],
    [
      {
        [SINK_ENV.anomaliesTopic]: 'out',
        [SINK_ENV.anomaliesBrokers]: 'b:1',
        [SINK_ENV.anomaliesAuth]: 'plain',
      },
      /ANOMALIES_KAFKA_AUTH: must be one of iam, sasl-scram-512/,
    ],
    [
      {
        [SINK_ENV.anomaliesTopic]: 'out',
        [SINK_ENV.anomaliesBrokers]: 'b:1',
        [SINK_ENV.anomaliesAuth]: 'mtls',
      },
      /ANOMALIES_KAFKA_SECRET_ARN: required when ANOMALIES_KAFKA_AUTH is mtls/,
    ],
  ])('rejects %o in one line', (env, message) => {
    expect(() => sinkSettingsFromEnv(env)).toThrow(message);
  });

  it('MSK IAM signs OAUTHBEARER tokens for the function region over TLS', () => {
    const settings = sinkSettingsFromEnv({
      [SINK_ENV.anomaliesTopic]: 'out',
      [SINK_ENV.anomaliesBrokers]: 'b-1.x:9098,b-2.x:9098',
      [SINK_ENV.anomaliesAuth]: 'iam',
      AWS_REGION: 'eu-west-1',
    });
    expect(settings.kafka).toMatchObject({
      brokers: ['b-1.x:9098', 'b-2.x:9098'],
      region: 'eu-west-1',
    });
    const config = kafkaConfigFor(
      { brokers: ['b-1.x:9098'], topic: 'out', auth: { kind: 'none' } },
      kafkaSinkAuth(settings.kafka ?? ({} as never)),
    );
    expect(config.ssl).toBe(true);
    expect(config.sasl?.mechanism).toBe('oauthbearer');
  });

  it('SCRAM and mTLS take their material from the secret, naming a missing field', () => {
    const base = { topic: 'o', brokers: ['b:1'], region: 'r', secretArn: 'arn' } as const;
    expect(
      kafkaSinkAuth({ ...base, auth: 'sasl-scram-256' }, '{"username":"u","password":"p"}'),
    ).toEqual({
      kind: 'sasl-scram-256',
      username: 'u',
      password: 'p',
    });
    expect(() => kafkaSinkAuth({ ...base, auth: 'mtls' }, '{"certificate":"c"}')).toThrow(
      /the secret has no "privateKey"/,
    );
    expect(() => kafkaSinkAuth({ ...base, auth: 'sasl-scram-512' }, 'not json')).toThrow(
      /not a JSON object/,
    );
  });
});

describe('readSecretString against a loopback Secrets Manager endpoint', () => {
  const servers: ReturnType<typeof createServer>[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
    // Test files share a worker (vitest.config.ts): the credentials must not outlive the test.
    vi.unstubAllEnvs();
  });

  async function endpoint(answer: (req: IncomingMessage, body: string) => [number, string]) {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const [status, text] = answer(req, body);
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(text);
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('sends a SigV4-signed GetSecretValue and returns the SecretString; an error names the secret', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    const seen: { target?: string; auth?: string; body?: string } = {};
    const url = await endpoint((req, body) => {
      seen.target = String(req.headers['x-amz-target']);
      seen.auth = String(req.headers.authorization);
      seen.body = body;
      return body.includes('missing')
        ? [400, '{"__type":"ResourceNotFoundException"}']
        : [200, '{"SecretString":"{\\"username\\":\\"u\\"}"}'];
    });
    expect(await readSecretString('arn:secret:kafka', 'eu-west-1', url)).toBe('{"username":"u"}');
    expect(seen.target).toBe('secretsmanager.GetSecretValue');
    expect(seen.auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request/,
    );
    expect(JSON.parse(seen.body ?? '')).toEqual({ SecretId: 'arn:secret:kafka' });
    await expect(readSecretString('arn:missing', 'eu-west-1', url)).rejects.toThrow(
      /could not read secret arn:missing: 400/,
    );
  });
});
