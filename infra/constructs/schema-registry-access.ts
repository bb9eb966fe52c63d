import { Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CoreConfigError } from '../../functions/core/errors.ts';
import {
  checkFieldMapping,
  type FieldMapping,
} from '../../functions/core/readings/field-mapping.ts';
import { READINGS_ENV } from '../../functions/schema-registry/registry-config.ts';
import { SensorAnomalyDetectorError } from '../errors.ts';
import type { VpcNetworkConfig } from '../kafka-source.ts';
import { placeInNetwork } from './function-network.ts';

/** A registry that speaks Confluent's REST API (Confluent Platform or Cloud, Redpanda, …). */
export interface ConfluentRegistryProps {
  readonly kind: 'confluent';
  /** The registry's base URL, e.g. `https://psrc-abc12.eu-west-1.aws.confluent.cloud`. */
  readonly url: string;
  /**
   * A secret holding `{"username": …, "password": …}` for HTTP basic auth (Confluent Cloud:
   * an API key and its secret). The function reads it on its first schema fetch.
   * @default - no authentication
   */
  readonly basicAuthSecret?: ISecret;
  /**
   * The registry is inside the detector's `network`: the function joins it (and then reaches
   * DynamoDB and SNS as `network.awsAccess` says).
   * @default false - the function stays outside any VPC: the registry is reachable on the internet
   */
  readonly inNetwork?: boolean;
}

/** The AWS Glue Schema Registry of the function's account and region. */
export interface GlueRegistryProps {
  readonly kind: 'glue';
}

export type SchemaRegistryProps = ConfluentRegistryProps | GlueRegistryProps;

export interface SchemaRegistryAccessProps {
  /** The detector function. */
  readonly function: LambdaFunction;
  /** @default - records are text (CSV, JSON) only */
  readonly registry?: SchemaRegistryProps;
  /** Where the sensor id, value and timestamp are in a record. @default the JSON names (docs/input-formats.md) */
  readonly fields?: FieldMapping;
  /** The network a registry `inNetwork` is reached in. @default - none */
  readonly network?: VpcNetworkConfig;
}

/**
 * What the function needs to read schema-registry values (Avro, Protobuf, JSON Schema) and
 * mapped fields: its environment (functions/schema-registry/registry-config.ts), the right
 * to read the registry's credentials or schemas, and the network to reach it.
 */
export class SchemaRegistryAccess extends Construct {
  constructor(scope: Construct, id: string, props: SchemaRegistryAccessProps) {
    super(scope, id);
    const fn = props.function;
    if (props.fields !== undefined && Object.keys(props.fields).length > 0) {
      try {
        checkFieldMapping(props.fields);
      } catch (error) {
        if (error instanceof CoreConfigError) throw new Error(`fields: ${error.message}`);
        throw error;
      }
      fn.addEnvironment(READINGS_ENV.fields, JSON.stringify(props.fields));
    }
    const registry = props.registry;
    if (registry === undefined) return;
    fn.addEnvironment(READINGS_ENV.registry, registry.kind);
    if (registry.kind === 'glue') {
      // Consumers fetch schemas by version id, which no resource ARN names: "For
      // deserializers (consumer side), you should create a policy similar to below ...
      // Action: glue:GetSchemaVersion, Resource: *" (AWS Glue developer guide, "IAM examples
      // for deserializers", https://docs.aws.amazon.com/glue/latest/dg/schema-registry-gs.html).
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ['glue:GetSchemaVersion'], resources: ['*'] }),
      );
      Validations.of(fn.role ?? fn).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'glue:GetSchemaVersion by SchemaVersionId, as the Glue developer guide grants deserializers: a schema version id names no registry or schema ARN to scope it to.',
      });
      return;
    }
    if (!/^https?:\/\/[^\s/]+/.test(registry.url)) {
      throw new Error(
        `registry.url: the registry's http(s) URL (got ${JSON.stringify(registry.url)})`,
      );
    }
    fn.addEnvironment(READINGS_ENV.url, registry.url);
    if (registry.basicAuthSecret !== undefined) {
      fn.addEnvironment(READINGS_ENV.secretArn, registry.basicAuthSecret.secretArn);
      registry.basicAuthSecret.grantRead(fn);
    }
    if (registry.inNetwork === true) {
      if (props.network === undefined)
        throw new SensorAnomalyDetectorError(
          `${this.node.path}: schemaRegistry.inNetwork: needs the detector's network prop (the VPC, subnets and security group the function reaches the registry from)`,
        );
      placeInNetwork(fn, props.network, 'the schema registry');
    }
  }
}
