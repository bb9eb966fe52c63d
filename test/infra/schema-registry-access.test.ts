import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { readingSettingsFromEnv } from '../../functions/schema-registry/registry-config.ts';
import {
  SchemaRegistryAccess,
  type SchemaRegistryAccessProps,
} from '../../infra/constructs/schema-registry-access.ts';
import { templateOnlyApp } from './synth.ts';

/** A stack with one plain function (no bundling) and the construct under test. */
function synth(props: Omit<SchemaRegistryAccessProps, 'function'>, secret = false) {
  const stack = new Stack(templateOnlyApp(), 'Test');
  const fn = new LambdaFunction(stack, 'Fn', {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => {}'),
  });
  const basicAuthSecret = secret ? new Secret(stack, 'RegistryKey') : undefined;
  const registry =
    props.registry?.kind === 'confluent' && basicAuthSecret !== undefined
      ? { ...props.registry, basicAuthSecret }
      : props.registry;
  new SchemaRegistryAccess(stack, 'Readings', {
    ...props,
    ...(registry ? { registry } : {}),
    function: fn,
  });
  return Template.fromStack(stack);
}

/** cdk-nag's wildcard-permission findings (AwsSolutions-IAM5) no acknowledgment covers. */
function wildcardFindings(props: Omit<SchemaRegistryAccessProps, 'function'>): string[] {
  const stack = new Stack(templateOnlyApp(), 'Nag');
  const fn = new LambdaFunction(stack, 'Fn', {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => {}'),
  });
  new SchemaRegistryAccess(stack, 'Readings', { ...props, function: fn });
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.filter((v) => v.ruleName.includes('IAM5')).map((v) => v.ruleName);
}

function environment(template: Template): Record<string, string> {
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
  return fn?.Properties.Environment?.Variables ?? {};
}

describe('SchemaRegistryAccess', () => {
  it('Confluent with a basic-auth secret: its URL and secret in the environment, the secret readable', () => {
    const template = synth(
      {
        registry: { kind: 'confluent', url: 'https://psrc-abc12.eu-west-1.aws.confluent.cloud' },
        fields: { sensorId: 'device' },
      },
      true,
    );
    const env = environment(template);
    expect(env).toMatchObject({
      SCHEMA_REGISTRY: 'confluent',
      SCHEMA_REGISTRY_URL: 'https://psrc-abc12.eu-west-1.aws.confluent.cloud',
      READING_FIELDS: '{"sensorId":"device"}',
      SCHEMA_REGISTRY_SECRET_ARN: { Ref: expect.stringMatching(/^RegistryKey/) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Resource: { Ref: Match.stringLikeRegexp('RegistryKey') },
          }),
        ]),
      },
    });
    // What the function reads at cold start is what the construct wrote.
    expect(
      readingSettingsFromEnv({ ...env, SCHEMA_REGISTRY_SECRET_ARN: 'arn:aws:secretsmanager:x' }),
    ).toEqual({
      registry: {
        kind: 'confluent',
        url: 'https://psrc-abc12.eu-west-1.aws.confluent.cloud',
        secretArn: 'arn:aws:secretsmanager:x',
      },
      fields: { sensorId: 'device' },
    });
  });

  it('a private Confluent registry: the function joins its subnets', () => {
    const template = synth({
      registry: {
        kind: 'confluent',
        url: 'http://registry.internal:8081',
        inNetwork: true,
      },
      network: { vpcId: 'vpc-1', subnetIds: ['subnet-1', 'subnet-2'], securityGroupId: 'sg-1' },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: ['subnet-1', 'subnet-2'], SecurityGroupIds: ['sg-1'] },
    });
  });

  it('Glue: glue:GetSchemaVersion, the one call the decoder makes', () => {
    const template = synth({ registry: { kind: 'glue' } });
    expect(environment(template)).toMatchObject({ SCHEMA_REGISTRY: 'glue' });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'glue:GetSchemaVersion', Effect: 'Allow', Resource: '*' }),
        ]),
      },
    });
  });

  it('the wildcards Glue and a VPC need are acknowledged with a reason (cdk-nag)', () => {
    expect(wildcardFindings({ registry: { kind: 'glue' } })).toEqual([]);
    expect(
      wildcardFindings({
        registry: {
          kind: 'confluent',
          url: 'http://r:8081',
          inNetwork: true,
        },
        network: { vpcId: 'vpc-1', subnetIds: ['subnet-1'], securityGroupId: 'sg-1' },
      }),
    ).toEqual([]);
  });

  it('no registry and no mapping: nothing is added', () => {
    const template = synth({});
    expect(environment(template)).toEqual({});
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });

  it.each([
    [
      { registry: { kind: 'confluent' as const, url: 'psrc-abc12' } },
      'registry.url: the registry\'s http(s) URL (got "psrc-abc12")',
    ],
    [{ fields: { value: 'a..b' } }, 'fields: field path "a..b": want name or name.name'],
  ])('rejects %j at synth, naming the bad value', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
