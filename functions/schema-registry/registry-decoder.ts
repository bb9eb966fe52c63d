import type { GlueClient } from '@aws-sdk/client-glue';
import { type BasicAuth, ConfluentRegistry } from './confluent-registry.ts';
import { GlueRegistry } from './glue-registry.ts';
import type { ReadingSettings } from './registry-config.ts';
import { SchemaRegistryDecoder } from './schema-decoder.ts';

/*
 * Apart from registry-config.ts so that the Lambda entry imports it (and avsc, protobufjs,
 * the Glue client) only when a registry is configured: a function without one does not
 * load them at cold start.
 */

export interface RegistryClients {
  /** Reads a secret's SecretString (functions/adapters/secret-reader.ts). */
  readonly readSecret: (arn: string) => Promise<string>;
  readonly glue: () => GlueClient;
}

/** The container's decoder, or undefined when no registry is configured. */
export function decoderFromSettings(
  settings: ReadingSettings,
  clients: RegistryClients,
): SchemaRegistryDecoder | undefined {
  const registry = settings.registry;
  if (registry === undefined) return undefined;
  if (registry.kind === 'glue') return new SchemaRegistryDecoder(new GlueRegistry(clients.glue()));
  const { secretArn } = registry;
  return new SchemaRegistryDecoder(
    new ConfluentRegistry({
      url: registry.url,
      ...(secretArn === undefined
        ? {}
        : { basicAuth: () => basicAuthFrom(clients.readSecret(secretArn)) }),
    }),
  );
}

async function basicAuthFrom(secret: Promise<string>): Promise<BasicAuth> {
  const parsed = JSON.parse(await secret) as Record<string, unknown>;
  const { username, password } = parsed;
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new Error('the registry secret needs string fields "username" and "password"');
  }
  return { username, password };
}
