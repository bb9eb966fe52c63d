import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_SCHEMA } from '../../functions/adapters/dynamodb-table.ts';
import { ENV } from '../../functions/config.ts';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/telemetry-names.ts';
import { CONTEXT_DEFAULTS, parseDeployConfig } from '../../infra/config.ts';
import { DYNAMODB_ACTIONS } from '../../infra/constructs/detector-function.ts';
import { DEPLOY_EXAMPLES } from '../../infra/examples.ts';
import { PLACEHOLDER_BROKERS_MESSAGE } from '../../infra/stacks/anomaly-detector-stack.ts';
import {
  CDK_JSON_CONTEXT,
  invokeBundleWithEmptyBatch,
  onlyLogicalId,
  policyStatements,
  type Synthesized,
  stackTraceOfBadBundleStart,
  synthesize,
} from './synth.ts';

const ESM = 'AWS::Lambda::EventSourceMapping';

// Synthesized once per worker and context (synth.ts); a worker's first synth bundles the handlers.
let defaults: Synthesized;
let internet: Synthesized;
let vpcMtls: Synthesized;
let provisioned: Synthesized;
beforeAll(() => {
  defaults = synthesize();
  internet = synthesize(DEPLOY_EXAMPLES.selfManaged.context);
  vpcMtls = synthesize(DEPLOY_EXAMPLES.selfManagedVpcMtls.context);
  provisioned = synthesize({
    provisionedMinPollers: '2',
    provisionedMaxPollers: '10',
    retryAttempts: '50',
    maxRecordAgeSeconds: '3600',
    bisectBatchOnError: 'true',
    reportBatchItemFailures: 'true',
    removalPolicy: 'destroy',
    kafkaAuth: 'none',
    vpcId: 'vpc-0abc',
    subnetIds: 'subnet-0123',
    securityGroupId: 'sg-0456',
  });
});

describe('default `cdk synth` (no extra context): self-managed brokers', () => {
  it('maps the topic with SASL/SCRAM-512 credentials from a secret the stack creates', () => {
    const secret = onlyLogicalId(defaults.template, 'AWS::SecretsManager::Secret');
    const queue = onlyLogicalId(defaults.template, 'AWS::SQS::Queue');
    defaults.template.resourceCountIs(ESM, 1);
    defaults.template.hasResourceProperties(ESM, {
      SelfManagedEventSource: {
        Endpoints: { KafkaBootstrapServers: ['kafka-1.example.com:9096'] },
      },
      Topics: ['sensor-readings'],
      // Item 10: the group comes from the stack name, so a second stack gets its own.
      SelfManagedKafkaEventSourceConfig: {
        ConsumerGroupId: 'SensorAnomalyDetector-anomaly-detector',
      },
      BatchSize: 10000,
      MaximumBatchingWindowInSeconds: 3,
      // Item 9: LATEST can miss records while the mapping is created or updated.
      StartingPosition: 'TRIM_HORIZON',
      SourceAccessConfigurations: [{ Type: 'SASL_SCRAM_512_AUTH', URI: { Ref: secret } }],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
      // On-demand mode: the error-handling controls are left to Lambda.
      ProvisionedPollerConfig: Match.absent(),
      MaximumRetryAttempts: Match.absent(),
      BisectBatchOnFunctionError: Match.absent(),
      FunctionResponseTypes: Match.absent(),
    });
    defaults.template.hasOutput('KafkaCredentialsSecretArn', { Value: { Ref: secret } });
  });

  it('runs a bundled Node.js 22 ARM64 function with exactly the environment the handler reads', () => {
    const table = onlyLogicalId(defaults.template, 'AWS::DynamoDB::Table');
    // The detector's log group (the silence check, always deployed, has its own).
    const logs = Object.keys(defaults.template.findResources('AWS::Logs::LogGroup')).filter(
      (id) => !isChecker(id),
    );
    expect(logs).toHaveLength(1);
    defaults.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 1024,
      Timeout: 60,
      LoggingConfig: { LogGroup: { Ref: logs[0] } },
      Environment: {
        Variables: Match.objectEquals({
          [ENV.tableName]: { Ref: table },
          [ENV.topicArn]: { Ref: Match.stringLikeRegexp('AlertTopic') },
          [ENV.slideSeconds]: '5',
          [ENV.windowSeconds]: '10',
          [ENV.detector]: 'threshold',
          [ENV.threshold]: '50',
          [ENV.zscoreSigma]: '2.5',
          [ENV.zscoreMinCount]: '5',
          [ENV.zscoreMinDeviation]: '0',
          [ENV.ewmaHalfLifeReadings]: '50',
          [ENV.ewmaSigma]: '4',
          [ENV.ewmaWarmupReadings]: '30',
          [ENV.ewmaMinRelativeDeviation]: '0.01',
          [ENV.ewmaMinDeviation]: '0',
          [ENV.ewmaLevelShiftReadings]: '5',
          [ENV.adaptiveHalfLifeReadings]: '100',
          [ENV.adaptiveEnvelopeHalfLifeReadings]: '20',
          [ENV.adaptiveExtremeHalfLifeReadings]: '5000',
          [ENV.adaptiveSigma]: '2',
          [ENV.adaptiveExtremeMargin]: '0.1',
          [ENV.adaptiveExtremeMaturityReadings]: '1000',
          [ENV.adaptiveScoreThreshold]: '0.7',
          [ENV.adaptiveWarmupReadings]: '30',
          [ENV.adaptiveRefractoryReadings]: '50',
          [ENV.adaptiveMinSpreadFraction]: '0.002',
          [ENV.adaptiveMinDeviation]: '0',
          [ENV.detectorRules]: '[]',
          [ENV.alertCooldownSeconds]: '60',
          // Each reading judged as it arrives (docs/semantics.md §3): no window flush function.
          [ENV.evaluation]: 'arrival',
          [ENV.allowedLatenessMs]: '2000',
          [ENV.flinkFormat]: 'python',
          [ENV.freshnessSeconds]: '300',
          [ENV.episodeEndReadings]: '10',
          [ENV.digestPeriodSeconds]: '900',
          [ENV.retentionMarginSeconds]: '3600',
          [ENV.writeConcurrency]: '16',
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          POWERTOOLS_TRACE_ENABLED: 'false',
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
      // Tracing is off unless the `tracing` context key turns it on.
      TracingConfig: Match.absent(),
    });
    defaults.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    // esbuild ran locally and wrote an ESM bundle (with the AWS SDK inside), and one each for
    // the silence check and the email digest.
    expect(defaults.bundles).toHaveLength(3);
    expect(statSync(defaults.bundles[0] ?? '').size).toBeGreaterThan(100_000);
  });

  it('ships a source map of the TypeScript sources next to the bundle (item 11)', () => {
    const bundle = defaults.bundles[0] ?? '';
    const map = JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as {
      sources: string[];
      sourcesContent?: unknown;
    };
    expect(readFileSync(bundle, 'utf8')).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    expect(map.sources).toContainEqual(expect.stringMatching(/functions\/detector\/handler\.ts$/));
    expect(map.sources).toContainEqual(
      expect.stringMatching(/functions\/batch\/process-batch\.ts$/),
    );
    // Mappings only: the sources' text would double the package for nothing.
    expect(map.sourcesContent).toBeUndefined();
  });

  it('maps an error thrown in the bundle back to the TypeScript file (item 11)', async () => {
    const stack = await stackTraceOfBadBundleStart(defaults);
    expect(stack).toMatch(/functions\/config\.ts:\d+/);
  });

  it('ships a bundle that starts with the environment the template sets', async () => {
    expect(await invokeBundleWithEmptyBatch(defaults)).toMatchObject({ records: 0, anomalies: 0 });
  });

  it('keeps windows in an on-demand table with the adapter keys, TTL and PITR, retained', () => {
    defaults.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: TABLE_SCHEMA.partitionKey, AttributeType: 'S' },
          { AttributeName: TABLE_SCHEMA.sortKey, AttributeType: 'S' },
        ],
        TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
  });

  it('encrypts both topics with a rotated customer managed key and refuses plain HTTP', () => {
    const key = onlyLogicalId(defaults.template, 'AWS::KMS::Key');
    defaults.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    defaults.template.resourceCountIs('AWS::SNS::Topic', 2);
    defaults.template.allResourcesProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
    });
    defaults.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    defaults.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it("lets only this account's CloudWatch alarms publish to the ops topic and use the key (item 1)", () => {
    const t = defaults.template;
    const alarmsOfThisAccount = {
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: {
        'aws:SourceArn': {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':cloudwatch:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':alarm:*',
            ],
          ],
        },
      },
    };
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: Match.stringLikeRegexp('OpsTopic') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: Match.stringLikeRegexp('OpsTopic') },
            Condition: alarmsOfThisAccount,
          }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: alarmsOfThisAccount,
          }),
        ]),
      },
    });
    // The broken form: a topic policy holding only the TLS deny statement.
    for (const policy of Object.values(t.findResources('AWS::SNS::TopicPolicy'))) {
      const statements = policy.Properties.PolicyDocument.Statement as Array<{ Effect: string }>;
      const isOps = JSON.stringify(policy.Properties.Topics).includes('OpsTopic');
      if (isOps) expect(statements.some((s) => s.Effect === 'Allow')).toBe(true);
    }
  });

  it('grants the function only the data actions it uses, on its own resources', () => {
    // The detector's policies (the silence check's are asserted in silence-check.test.ts).
    const statements = detectorStatements(defaults.template);
    const wildcardActions = statements.flatMap((s) => s.Action).filter((a) => a.includes('*'));
    expect(wildcardActions).toEqual([]);
    const table = onlyLogicalId(defaults.template, 'AWS::DynamoDB::Table');
    const dynamodb = statements.filter((s) => s.Action.some((a) => a.startsWith('dynamodb:')));
    // Item 7: exactly the requests the window store sends (checked against its source below).
    expect(dynamodb).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        Resource: { 'Fn::GetAtt': [table, 'Arn'] },
      }),
    ]);
    for (const unused of ['dynamodb:UpdateItem', 'dynamodb:BatchWriteItem']) {
      expect(statements.flatMap((s) => s.Action)).not.toContain(unused);
    }
    const sns = statements.filter((s) => s.Action.some((a) => a.startsWith('sns:')));
    expect(sns).toEqual([
      expect.objectContaining({
        Action: ['sns:Publish'],
        Resource: { Ref: expect.stringMatching(/AlertTopic/) },
      }),
    ]);
    // Brokers on the internet: no network interfaces, so no EC2 permissions.
    expect(statements.flatMap((s) => s.Action).filter((a) => a.startsWith('ec2:'))).toEqual([]);
    defaults.template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: Match.absent(),
    });
  });

  it('alarms on errors, throttles, offset lag, dead letters, rejected-record rate, silence and invalid rules', () => {
    const ops = { Ref: Match.stringLikeRegexp('OpsTopic') };
    const t = defaults.template;
    // 7 of the detector, 2 of the silence check (errors, not running; silence-check.test.ts),
    // 3 of alerting (the digest's errors, SMS spend, failed deliveries; alerting.test.ts).
    t.resourceCountIs('AWS::CloudWatch::Alarm', 12);
    t.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [ops], OKActions: [ops] });
    for (const metric of ['Errors', 'Throttles', 'OffsetLag']) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
      });
    }
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OffsetLag',
      Threshold: 10_000,
      EvaluationPeriods: 3,
    });
    const emf = (name: string) =>
      Match.objectLike({
        MetricStat: Match.objectLike({
          Metric: {
            Namespace: METRICS_NAMESPACE,
            MetricName: name,
            Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
          },
        }),
      });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 5,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(received > 0, 100 * rejected / received, 0)' }),
        emf(METRIC.recordsRejected),
        emf(METRIC.recordsReceived),
      ]),
    });
  });

  it('alarms when no record arrived for 15 minutes, missing data breaching (item 8)', () => {
    defaults.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.recordsReceived,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 15,
      DatapointsToAlarm: 15,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    // The other alarms keep missing data as not breaching: only this one reads silence (and
    // the silence check's "not running" alarm, silence-check.test.ts).
    const breaching = Object.entries(
      defaults.template.findResources('AWS::CloudWatch::Alarm'),
    ).filter(([id, a]) => a.Properties.TreatMissingData === 'breaching' && !isChecker(id));
    expect(breaching).toHaveLength(1);
  });

  it('has a dashboard of records, rejections, anomalies, notifications, lag and duration', () => {
    defaults.template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: 'SensorAnomalyDetector',
    });
    const body = JSON.stringify(defaults.template.findResources('AWS::CloudWatch::Dashboard'));
    for (const name of [
      METRIC.recordsReceived,
      METRIC.recordsRejected,
      METRIC.anomalies,
      METRIC.notificationsSent,
      METRIC.notificationsHeldBack,
      METRIC.batchDurationMs,
      'OffsetLag',
      'Duration',
    ]) {
      expect(body).toContain(`\\"${name}\\"`);
    }
  });

  it('passes the cdk-nag AwsSolutions checks', () => {
    expect(defaults.nagFindings).toEqual([]);
  });
});

describe('self-managed example: internet brokers, email and SMS subscribers', () => {
  it('uses the given secret instead of creating one', () => {
    const secretArn = DEPLOY_EXAMPLES.selfManaged.context.kafkaSecretArn;
    internet.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    internet.template.hasResourceProperties(ESM, {
      SelfManagedEventSource: {
        Endpoints: {
          KafkaBootstrapServers: ['b-1.kafka.example.com:9096', 'b-2.kafka.example.com:9096'],
        },
      },
      SourceAccessConfigurations: [{ Type: 'SASL_SCRAM_512_AUTH', URI: secretArn }],
    });
    expect(policyStatements(internet.template)).toContainEqual(
      expect.objectContaining({
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: secretArn,
      }),
    );
  });

  it('subscribes email to digests, SMS to critical per-sensor alerts, ops email to alarms (item 5)', () => {
    const t = internet.template;
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('AlertTopic') },
      FilterPolicy: { kind: ['digest'] },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sms',
      Endpoint: '+14155550100',
      TopicArn: { Ref: Match.stringLikeRegexp('AlertTopic') },
      FilterPolicy: { kind: ['alert'], severity: ['critical'] },
    });
    // The broken form: an email subscription without a filter receives every alert.
    for (const sub of Object.values(t.findResources('AWS::SNS::Subscription'))) {
      const onAlertTopic = JSON.stringify(sub.Properties.TopicArn).includes('AlertTopic');
      if (sub.Properties.Protocol === 'email' && onAlertTopic) {
        expect(sub.Properties.FilterPolicy).toEqual({ kind: ['digest'] });
      }
    }
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'platform@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('OpsTopic') },
    });
    expect(internet.nagFindings).toEqual([]);
  });
});

describe('self-managed example: brokers in a VPC with mutual TLS', () => {
  it('maps each topic with its own consumer group, client certificate, root CA, subnets and group', () => {
    const ctx = DEPLOY_EXAMPLES.selfManagedVpcMtls.context;
    const t = vpcMtls.template;
    t.resourceCountIs(ESM, 2);
    const access = Match.arrayWith([
      { Type: 'CLIENT_CERTIFICATE_TLS_AUTH', URI: ctx.kafkaSecretArn },
      { Type: 'SERVER_ROOT_CA_CERTIFICATE', URI: ctx.rootCaSecretArn },
      { Type: 'VPC_SECURITY_GROUP', URI: ctx.securityGroupId },
      { Type: 'VPC_SUBNET', URI: 'subnet-0a1b2c3d4e5f67891' },
      { Type: 'VPC_SUBNET', URI: 'subnet-0a1b2c3d4e5f67892' },
    ]);
    t.hasResourceProperties(ESM, {
      Topics: ['plant-a.readings'],
      SelfManagedKafkaEventSourceConfig: {
        ConsumerGroupId: 'SensorAnomalyDetector-anomaly-detector',
      },
      SourceAccessConfigurations: access,
    });
    t.hasResourceProperties(ESM, {
      Topics: ['plant-b.readings'],
      SelfManagedKafkaEventSourceConfig: {
        ConsumerGroupId: 'SensorAnomalyDetector-anomaly-detector-plant-b.readings',
      },
      SourceAccessConfigurations: access,
    });
  });

  it('may read the client certificate and the root CA secrets', () => {
    const ctx = DEPLOY_EXAMPLES.selfManagedVpcMtls.context;
    // minimizePolicies (a recommended feature flag) merges both into one statement.
    const statements = policyStatements(vpcMtls.template);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: expect.arrayContaining([ctx.kafkaSecretArn, ctx.rootCaSecretArn]),
      }),
    );
  });

  it('lets the pollers manage network interfaces, acknowledged for cdk-nag with a reason', () => {
    expect(policyStatements(vpcMtls.template)).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining([
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
        ]),
        Resource: '*',
      }),
    );
    expect(vpcMtls.nagFindings).toEqual([]);
  });

  it('configures the z-score detector', () => {
    vpcMtls.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DETECTOR: 'zscore', ZSCORE_SIGMA: '3.5' }) },
    });
  });
});

describe('provisioned mode, unauthenticated brokers in a VPC', () => {
  it('gives the mapping only its network, no credentials', () => {
    provisioned.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    provisioned.template.hasResourceProperties(ESM, {
      SourceAccessConfigurations: [
        { Type: 'VPC_SECURITY_GROUP', URI: 'sg-0456' },
        { Type: 'VPC_SUBNET', URI: 'subnet-0123' },
      ],
    });
  });

  it('sets pollers and the error-handling controls on the mapping', () => {
    provisioned.template.hasResourceProperties(ESM, {
      ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 10 },
      MaximumRetryAttempts: 50,
      MaximumRecordAgeInSeconds: 3600,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('deletes the table with the stack when removalPolicy is destroy', () => {
    provisioned.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    expect(provisioned.nagFindings).toEqual([]);
  });
});

describe('placeholder brokers', () => {
  it('warns on synth when the default placeholder brokers would be deployed, not otherwise', () => {
    // Assess
    Annotations.fromStack(defaults.stack).hasWarning(
      '*',
      Match.stringLikeRegexp('bootstrapServers is the placeholder'),
    );
    Annotations.fromStack(internet.stack).hasNoWarning(
      '*',
      Match.stringLikeRegexp('bootstrapServers is the placeholder'),
    );
  });
});

describe('`cdk deploy` with the placeholder brokers (item 13)', () => {
  it('carries a CloudFormation rule that fails the deploy, naming the context key', () => {
    const rules = defaults.template.toJSON().Rules as Record<string, unknown>;
    expect(rules.RequireRealBootstrapServers).toEqual({
      Assertions: [
        {
          Assert: {
            'Fn::Not': [
              {
                'Fn::Equals': [
                  { Ref: 'PlaceholderBootstrapServers' },
                  CONTEXT_DEFAULTS.bootstrapServers.join(','),
                ],
              },
            ],
          },
          AssertDescription: PLACEHOLDER_BROKERS_MESSAGE,
        },
      ],
    });
    expect(PLACEHOLDER_BROKERS_MESSAGE).toContain('bootstrapServers');
    expect(PLACEHOLDER_BROKERS_MESSAGE).toContain('-c bootstrapServers=');
    defaults.template.hasParameter('PlaceholderBootstrapServers', {
      Type: 'String',
      Default: CONTEXT_DEFAULTS.bootstrapServers.join(','),
    });
  });

  it('has no such rule or parameter once real brokers are given', () => {
    const json = internet.template.toJSON();
    expect(Object.keys(json.Rules ?? {})).toEqual(['CheckBootstrapVersion']);
    expect(Object.keys(json.Parameters ?? {})).not.toContain('PlaceholderBootstrapServers');
  });
});

describe('a second copy under another stackName (item 10)', () => {
  it('joins its own consumer group', () => {
    const other = synthesize({ stackName: 'PlantB', bootstrapServers: 'b-1.example.com:9096' });
    other.template.hasResourceProperties(ESM, {
      SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: 'PlantB-anomaly-detector' },
    });
  });
});

describe('without the event source mapping (eventSourceMapping=false, LocalStack)', () => {
  it('has no mapping, no placeholder rule, and still the function, table, topics and alarms', () => {
    const local = synthesize({ eventSourceMapping: 'false' });
    local.template.resourceCountIs(ESM, 0);
    // The detector, the silence check (docs/silence.md) and the email digest (docs/alerting.md).
    local.template.resourceCountIs('AWS::Lambda::Function', 3);
    local.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    local.template.resourceCountIs('AWS::SNS::Topic', 2);
    local.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(Object.keys(local.template.toJSON().Rules ?? {})).toEqual(['CheckBootstrapVersion']);
    local.template.hasOutput('FunctionName', {});
    expect(local.nagFindings).toEqual([]);
  });
});

describe('an SQS interface endpoint for pollers in a VPC (item 4)', () => {
  it('warns when the mapping runs in a VPC without one', () => {
    Annotations.fromStack(vpcMtls.stack).hasWarning(
      '*',
      Match.stringLikeRegexp('SQS interface endpoint'),
    );
    Annotations.fromStack(internet.stack).hasNoWarning(
      '*',
      Match.stringLikeRegexp('SQS interface endpoint'),
    );
    vpcMtls.template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  it("creates one in the first of the brokers' subnets with createSqsEndpoint=true, reachable from the pollers", () => {
    const withEndpoint = synthesize({
      ...DEPLOY_EXAMPLES.selfManagedVpcMtls.context,
      createSqsEndpoint: 'true',
    });
    const t = withEndpoint.template;
    // One subnet: an interface endpoint takes at most one per Availability Zone, and the
    // zones of subnets given by id are unknown at synth.
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.sqs']] },
      VpcEndpointType: 'Interface',
      VpcId: 'vpc-0a1b2c3d4e5f67890',
      SubnetIds: ['subnet-0a1b2c3d4e5f67891'],
      PrivateDnsEnabled: true,
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: 'vpc-0a1b2c3d4e5f67890',
      SecurityGroupIngress: [
        Match.objectLike({
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          SourceSecurityGroupId: 'sg-0a1b2c3d4e5f67893',
        }),
      ],
    });
    Annotations.fromStack(withEndpoint.stack).hasNoWarning(
      '*',
      Match.stringLikeRegexp('SQS interface endpoint'),
    );
    expect(withEndpoint.nagFindings).toEqual([]);
  });

  it('spreads over the subnets sqsEndpointSubnetIds names, one per zone, among subnetIds only', () => {
    const context = { ...DEPLOY_EXAMPLES.selfManagedVpcMtls.context, createSqsEndpoint: 'true' };
    const spread = synthesize({
      ...context,
      sqsEndpointSubnetIds: 'subnet-0a1b2c3d4e5f67892,subnet-0a1b2c3d4e5f67891',
    });
    spread.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      SubnetIds: ['subnet-0a1b2c3d4e5f67892', 'subnet-0a1b2c3d4e5f67891'],
    });
    expect(() =>
      parseDeployConfig({ ...CDK_JSON_CONTEXT, ...context, sqsEndpointSubnetIds: 'subnet-0ff' }),
    ).toThrow(
      'sqsEndpointSubnetIds: must be among subnetIds (subnet-0a1b2c3d4e5f67891,subnet-0a1b2c3d4e5f67892) (got subnet-0ff)',
    );
  });
});

describe('tracing=true', () => {
  it('turns on X-Ray active tracing, the Powertools Tracer and the X-Ray grants', async () => {
    const traced = synthesize({ tracing: 'true', bootstrapServers: 'b-1.example.com:9096' });
    // The bundle with the Tracer in it still starts and handles a batch.
    expect(await invokeBundleWithEmptyBatch(traced)).toMatchObject({ records: 0 });
    traced.template.hasResourceProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: Match.objectLike({ POWERTOOLS_TRACE_ENABLED: 'true' }) },
    });
    expect(policyStatements(traced.template)).toContainEqual(
      expect.objectContaining({
        Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
        Resource: '*',
      }),
    );
    expect(traced.nagFindings).toEqual([]);
  });
});

describe('the function role and the adapters (item 7)', () => {
  it('grants exactly the DynamoDB requests the adapters send', () => {
    const sent = new Set<string>();
    for (const file of readdirSync('functions/adapters', { recursive: true }) as string[]) {
      // The digest function's store has a role of its own (infra/constructs/digest-schedule.ts).
      if (!file.endsWith('.ts') || file === 'dynamodb-digest-store.ts') continue;
      const source = readFileSync(join('functions/adapters', file), 'utf8');
      if (!source.includes('@aws-sdk/client-dynamodb')) continue;
      for (const [, command] of source.matchAll(/new (\w+)Command\(/g)) {
        sent.add(`dynamodb:${command}`);
      }
    }
    expect([...DYNAMODB_ACTIONS].sort()).toEqual([...sent].sort());
  });
});

/**
 * Resources of the scheduled functions deployed beside the detector: the silence check
 * (docs/silence.md) and the email digest (docs/alerting.md, logical ids `…Digest…`).
 */
function isChecker(logicalId: string): boolean {
  return logicalId.includes('SilenceCheck') || /^[A-Za-z0-9]*Digest/.test(logicalId);
}

/** The statements of the policies that are not the silence check's. */
function detectorStatements(template: Template) {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([id]) => !isChecker(id))
    .map(([, p]) => p);
  return policies.flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).map((st) => ({
      ...st,
      Action: ([] as string[]).concat(st.Action),
    })),
  );
}
