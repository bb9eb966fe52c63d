import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export class SecretReadError extends Error {
  override readonly name = 'SecretReadError';
}

/**
 * Reads a Secrets Manager secret's SecretString (the Kafka sink's SCRAM or mTLS material)
 * with the function's role: "GetSecretValue ... Retrieves the contents of the encrypted fields
 * SecretString or SecretBinary from the specified version of a secret" (AWS Secrets Manager
 * API Reference, GetSecretValue,
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).
 * Read once per container by the sink; `endpoint` points tests at a loopback server.
 */
export async function readSecretString(
  secretArn: string,
  region: string,
  endpoint?: string,
): Promise<string> {
  const client = new SecretsManagerClient({
    region,
    ...(endpoint === undefined ? {} : { endpoint }),
  });
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (typeof out.SecretString !== 'string')
      throw new SecretReadError(`secret ${secretArn} has no SecretString`);
    return out.SecretString;
  } catch (error) {
    if (error instanceof SecretReadError) throw error;
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const { name, message } = error as Error;
    throw new SecretReadError(
      `could not read secret ${secretArn}: ${status === undefined ? '' : `${status} `}${name}: ${message}`,
      { cause: error },
    );
  } finally {
    client.destroy();
  }
}
