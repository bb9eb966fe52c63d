import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

export class SecretReadError extends Error {
  override readonly name = 'SecretReadError';
}

/**
 * Reads a Secrets Manager secret's SecretString (the Kafka sink's SCRAM or mTLS material)
 * through the JSON API, signed with the function's role: "GetSecretValue ... Retrieves the
 * contents of the encrypted fields SecretString or SecretBinary from the specified version
 * of a secret" (AWS Secrets Manager API Reference, GetSecretValue,
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).
 * A signed request rather than @aws-sdk/client-secrets-manager, which the project does not
 * depend on; the signer and the credential chain are the SDK's own (dependencies of the
 * installed clients).
 */
export async function readSecretString(
  secretArn: string,
  region: string,
  endpoint = `https://secretsmanager.${region}.amazonaws.com`,
): Promise<string> {
  const url = new URL(endpoint);
  const body = JSON.stringify({ SecretId: secretArn });
  const signer = new SignatureV4({
    credentials: defaultProvider(),
    region,
    service: 'secretsmanager',
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port === '' ? {} : { port: Number(url.port) }),
    path: '/',
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'secretsmanager.GetSecretValue',
    },
    body,
  });
  const response = await fetch(url, {
    method: 'POST',
    headers: signed.headers as Record<string, string>,
    body,
  });
  const text = await response.text();
  if (!response.ok)
    throw new SecretReadError(`could not read secret ${secretArn}: ${response.status} ${text}`);
  const parsed = JSON.parse(text) as { SecretString?: string };
  if (typeof parsed.SecretString !== 'string')
    throw new SecretReadError(`secret ${secretArn} has no SecretString`);
  return parsed.SecretString;
}
