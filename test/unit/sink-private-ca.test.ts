import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, connect, createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaConfigFor } from '../../functions/adapters/kafka-anomaly-sink.ts';
import {
  type KafkaSinkSettings,
  kafkaSinkAuth,
  SINK_ENV,
  sinkSettingsFromEnv,
} from '../../functions/sinks-config.ts';

// Brokers whose certificate a private CA signed: the producer trusts them only with the root
// CA secret the mapping uses (rootCaSecretArn), otherwise its TLS handshake fails with
// "unable to verify the first certificate". A real TLS server on loopback, with a CA and a
// server certificate made by openssl, checks the options the sink hands to kafkajs (which
// passes `ssl` to Node's tls.connect).

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** The TLS handshake with `ssl` as kafkajs gives it to tls.connect: null, or its error. */
function handshake(port: number, ssl: unknown): Promise<string | null> {
  const options = (typeof ssl === 'object' && ssl !== null ? ssl : {}) as ConnectionOptions;
  return new Promise((resolve) => {
    const socket = connect({ host: 'localhost', port, servername: 'localhost', ...options }, () => {
      socket.end();
      resolve(null);
    });
    socket.on('error', (error) => resolve(error.message));
  });
}

describe.skipIf(!hasOpenssl && !process.env.CI)('the sink and brokers with a private CA', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let caPem: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'private-ca-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=Test private CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    );
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      'broker.key',
      '-out',
      'broker.csr',
    );
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
    ssl(
      'x509',
      '-req',
      '-in',
      'broker.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.ext',
      '-out',
      'broker.pem',
    );
    caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
    server = createServer({
      key: readFileSync(join(dir, 'broker.key')),
      cert: readFileSync(join(dir, 'broker.pem')),
    });
    server.on('secureConnection', (socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  }, 60_000);

  afterAll(() => {
    server?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const settings = (auth: KafkaSinkSettings['auth']): KafkaSinkSettings => {
    const parsed = sinkSettingsFromEnv({
      [SINK_ENV.anomaliesTopic]: 'anomalies',
      [SINK_ENV.anomaliesBrokers]: `localhost:${port}`,
      [SINK_ENV.anomaliesAuth]: auth,
      [SINK_ENV.anomaliesSecretArn]: 'arn:aws:secretsmanager:eu-west-1:1:secret:s-AbCdEf',
      [SINK_ENV.anomaliesRootCaSecretArn]: 'arn:aws:secretsmanager:eu-west-1:1:secret:ca-AbCdEf',
    });
    if (parsed.kafka === undefined) throw new Error('no Kafka sink settings');
    return parsed.kafka;
  };
  const producerSsl = (auth: KafkaSinkSettings['auth'], rootCa?: string) => {
    const secret =
      auth === 'mtls'
        ? JSON.stringify({ certificate: 'unused', privateKey: 'unused' })
        : JSON.stringify({ username: 'u', password: 'p' });
    const sinkAuth = kafkaSinkAuth(settings(auth), secret, rootCa);
    return kafkaConfigFor(
      { brokers: [`localhost:${port}`], topic: 'anomalies', auth: sinkAuth },
      sinkAuth,
    ).ssl;
  };

  it('reads the root CA variable beside the secret', () => {
    expect(settings('sasl-scram-512').rootCaSecretArn).toBe(
      'arn:aws:secretsmanager:eu-west-1:1:secret:ca-AbCdEf',
    );
  });

  it('without the root CA, the SCRAM producer cannot verify the brokers', async () => {
    expect(await handshake(port, producerSsl('sasl-scram-512'))).toMatch(
      /unable to verify the first certificate|self[- ]signed certificate/,
    );
  });

  it('with the root CA secret, SCRAM and TLS-only producers complete the handshake', async () => {
    const rootCa = JSON.stringify({ certificate: caPem });
    expect(await handshake(port, producerSsl('sasl-scram-512', rootCa))).toBeNull();
    expect(await handshake(port, producerSsl('sasl-scram-256', rootCa))).toBeNull();
    expect(await handshake(port, producerSsl('none', rootCa))).toBeNull();
    expect(producerSsl('mtls', rootCa)).toMatchObject({ ca: [caPem] });
  });

  it('says what is wrong with a root CA secret without a certificate', () => {
    expect(() => producerSsl('sasl-scram-512', '{"cert": "x"}')).toThrow(
      `${SINK_ENV.anomaliesRootCaSecretArn}: the secret has no "certificate" (the root CA, PEM)`,
    );
  });
});
