import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { SINK_ENV } from '../../functions/sinks-config.ts';
import { METRIC, SERVICE_NAME } from '../../functions/telemetry-names.ts';
import {
  type DetectionSettings,
  KafkaSource,
  SensorAnomalyDetector,
  SensorAnomalyDetectorError,
} from '../../infra/index.ts';
import { templateOnlyApp } from './synth.ts';

// The construct as an app of its own uses it: typed props, no context.

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka/creds-AbCdEf';
const ROOT_CA = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka/root-ca-GhIjKl';
const VPC = {
  vpcId: 'vpc-0abc',
  subnetIds: ['subnet-01', 'subnet-02'],
  securityGroupId: 'sg-0123abcd',
};
const source = (consumerGroupId?: string) =>
  KafkaSource.selfManaged({
    bootstrapServers: ['b-1.kafka.example.com:9096'],
    topics: ['readings'],
    secretArn: SECRET,
    ...(consumerGroupId === undefined ? {} : { consumerGroupId }),
  });
// No bundling (templateOnlyApp): these tests read templates, not code.
const newStack = () =>
  new Stack(templateOnlyApp(), 'Plant', {
    env: { region: 'eu-west-1' },
  });

/** cdk-nag AwsSolutions findings no acknowledgement covers. */
function nagFindings(stack: Stack): string[] {
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`),
  );
}

describe('two detectors in one stack', () => {
  const stack = newStack();
  const first = new SensorAnomalyDetector(stack, 'Boilers', { kafkaSource: source() });
  const second = new SensorAnomalyDetector(stack, 'Pumps', {
    kafkaSource: source(),
    detection: { detector: 'adaptive', adaptiveSigma: 3 },
  });
  first.addOutputs();
  second.addOutputs();
  const template = Template.fromStack(stack);

  it('gives each its own consumer group, the first keeping the stack default', () => {
    const groups = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).map(
      (m) => m.Properties.SelfManagedKafkaEventSourceConfig.ConsumerGroupId,
    );
    expect(groups.sort()).toEqual(['Plant-Pumps', 'Plant-anomaly-detector']);
  });

  it('gives each its own dashboard, metrics service and outputs', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')).map(
      (d) => d.Properties.DashboardName,
    );
    expect(dashboards.sort()).toEqual(['Plant', 'Plant-Pumps']);
    expect([first.serviceName, second.serviceName]).toEqual([
      SERVICE_NAME,
      `${SERVICE_NAME}-Pumps`,
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: `${SERVICE_NAME}-Pumps`,
          DETECTOR: 'adaptive',
          ADAPTIVE_SIGMA: '3',
        }),
      },
    });
    const outputs = Object.keys(template.findOutputs('*'));
    expect(outputs).toEqual(expect.arrayContaining(['FunctionName', 'PumpsFunctionName']));
    expect(new Set(outputs).size).toBe(outputs.length);
    // The second detector's alarms watch its own metrics.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'service', Value: `${SERVICE_NAME}-Pumps` }],
      MetricName: METRIC.recordsReceived,
    });
  });

  it('refuses a consumer group another detector of the stack uses', () => {
    const s = newStack();
    new SensorAnomalyDetector(s, 'A', { kafkaSource: source('shared') });
    expect(() => new SensorAnomalyDetector(s, 'B', { kafkaSource: source('shared') })).toThrow(
      new SensorAnomalyDetectorError(
        'Plant/B: consumer group "shared" is already used by Plant/A in this stack; give each detector its own (a Kafka event source mapping needs a group id of its own)',
      ),
    );
  });

  it('passes cdk-nag', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('a table and an alert topic of your own', () => {
  const stack = newStack();
  const table = Table.fromTableName(stack, 'Existing', 'plant-windows');
  const topic = Topic.fromTopicArn(stack, 'Alerts', 'arn:aws:sns:eu-west-1:123456789012:alerts');
  const detector = new SensorAnomalyDetector(stack, 'D', {
    table,
    alertTopic: topic,
    alertEmails: ['oncall@example.com'],
  });
  const template = Template.fromStack(stack);

  it('creates neither, and the function writes and publishes to them', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    // Only the operations topic is created.
    template.resourceCountIs('AWS::SNS::Topic', 1);
    expect(detector.table).toBe(table);
    expect(detector.alertTopic).toBe(topic);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TABLE_NAME: 'plant-windows',
          ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:alerts',
        }),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
      Protocol: 'email',
    });
  });

  it('refuses table settings for a table it does not create', () => {
    expect(
      () =>
        new SensorAnomalyDetector(newStack(), 'D', {
          table: Table.fromTableName(newStack(), 'T', 'x'),
          tableCapacity: {
            minReadCapacity: 1,
            maxReadCapacity: 2,
            minWriteCapacity: 1,
            maxWriteCapacity: 2,
          },
        }),
    ).toThrow('Plant/D: tableCapacity: only for the table the construct creates (table is given)');
  });
});

describe('grants and metrics', () => {
  const stack = newStack();
  const detector = new SensorAnomalyDetector(stack, 'D');
  const operator = new Role(stack, 'Operator', {
    assumedBy: new ServicePrincipal('ec2.amazonaws.com'),
  });
  detector.grantWriteRules(operator);
  detector.grantReadState(operator);
  const template = Template.fromStack(stack);

  it('lets a role write the rules item only, and read the state', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Operator') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
            Condition: {
              'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['rules'] },
            },
          }),
          Match.objectLike({
            Action: Match.arrayWith(['dynamodb:BatchGetItem', 'dynamodb:Query']),
          }),
        ]),
      },
    });
  });

  it('gives metrics with its service dimension', () => {
    const anomalies = stack.resolve(detector.metricAnomalies().toMetricConfig().metricStat);
    expect(anomalies).toMatchObject({
      metricName: METRIC.anomalies,
      dimensions: [{ name: 'service', value: SERVICE_NAME }],
      statistic: 'Sum',
    });
    expect(detector.metricOffsetLag().statistic).toBe('Maximum');
    expect(detector.metricDeadLetters().metricName).toBe('ApproximateNumberOfMessagesVisible');
    expect(detector.metricBatchDuration().statistic).toBe('p99');
  });
});

describe('the window table', () => {
  it('is on-demand with deletion protection by default, none when the stack destroys it', () => {
    const retained = newStack();
    new SensorAnomalyDetector(retained, 'D');
    Template.fromStack(retained).hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      DeletionProtectionEnabled: true,
    });
    const destroyed = newStack();
    new SensorAnomalyDetector(destroyed, 'D', { removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(destroyed).hasResourceProperties('AWS::DynamoDB::Table', {
      DeletionProtectionEnabled: false,
    });
  });

  it('takes provisioned capacity with auto scaling to 70% utilization', () => {
    const stack = newStack();
    new SensorAnomalyDetector(stack, 'D', {
      tableCapacity: {
        minReadCapacity: 5,
        maxReadCapacity: 50,
        minWriteCapacity: 10,
        maxWriteCapacity: 200,
      },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: Match.absent(),
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 10 },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScalableDimension: 'dynamodb:table:ReadCapacityUnits',
      MinCapacity: 5,
      MaxCapacity: 50,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScalableDimension: 'dynamodb:table:WriteCapacityUnits',
      MinCapacity: 10,
      MaxCapacity: 200,
    });
    const targets = Object.values(
      template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'),
    ).map((p) => p.Properties.TargetTrackingScalingPolicyConfiguration);
    expect(targets).toHaveLength(2);
    for (const t of targets) {
      expect(t.TargetValue).toBe(70);
      expect(t.PredefinedMetricSpecification.PredefinedMetricType).toMatch(
        /^DynamoDB(Read|Write)CapacityUtilization$/,
      );
    }
    expect(nagFindings(stack)).toEqual([]);
  });

  it('refuses capacity limits that cannot scale', () => {
    expect(
      () =>
        new SensorAnomalyDetector(newStack(), 'D', {
          tableCapacity: {
            minReadCapacity: 5,
            maxReadCapacity: 2,
            minWriteCapacity: 0,
            maxWriteCapacity: 2,
            targetUtilizationPercent: 95,
          },
        }),
    ).toThrow(
      [
        'Plant/D: ',
        '  - tableCapacity.maxReadCapacity: must be a whole number ≥ minReadCapacity (5) (got 2)',
        '  - tableCapacity.minWriteCapacity: must be a whole number ≥ 1 (got 0)',
        '  - tableCapacity.targetUtilizationPercent: must be 20-90 (got 95)',
      ].join('\n'),
    );
  });
});

describe('detection settings are typed and checked', () => {
  it('takes the adaptive detector, and a misspelt detector does not compile', () => {
    const adaptive: DetectionSettings = {
      detector: 'adaptive',
      adaptiveScoreThreshold: 0.8,
      dynamodbWriteConcurrency: 8,
    };
    // @ts-expect-error 'adaptiv' is not a detector
    const misspelt: DetectionSettings = { detector: 'adaptiv' };
    const stack = newStack();
    new SensorAnomalyDetector(stack, 'D', { detection: adaptive });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DETECTOR: 'adaptive',
          ADAPTIVE_SCORE_THRESHOLD: '0.8',
          DYNAMODB_WRITE_CONCURRENCY: '8',
        }),
      },
    });
    // Outside TypeScript (JavaScript apps), the construct says what is wrong.
    expect(() => new SensorAnomalyDetector(newStack(), 'D', { detection: misspelt })).toThrow(
      'Plant/D: detector: must be one of threshold, zscore, ewma, adaptive, robust (got "adaptiv")',
    );
  });

  it('says what is wrong with a window that is no multiple of the slide', () => {
    expect(
      () => new SensorAnomalyDetector(newStack(), 'D', { detection: { windowSeconds: 12 } }),
    ).toThrow('Plant/D: windowSeconds: must be a whole multiple of slideSeconds (5) (got 12)');
  });

  it('takes rules as an object', () => {
    const stack = newStack();
    new SensorAnomalyDetector(stack, 'D', {
      detection: {
        detectorRules: { rules: [{ match: 'boiler_*', detector: { kind: 'zscore', sigma: 4 } }] },
      },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DETECTOR_RULES: '{"rules":[{"match":"boiler_*","detector":{"kind":"zscore","sigma":4}}]}',
        }),
      },
    });
  });
});

describe('props are checked by the construct, one line each', () => {
  it('names each bad prop and its value', () => {
    expect(
      () =>
        new SensorAnomalyDetector(newStack(), 'D', {
          memorySizeMb: 64,
          alarmNoRecordsMinutes: 2000,
          alarmRejectedPercent: 0,
        }),
    ).toThrow(
      [
        'Plant/D: ',
        '  - memorySizeMb: must be at least 128 (got 64)',
        '  - alarmRejectedPercent: must be greater than 0 (got 0)',
        '  - alarmNoRecordsMinutes: must be at most 1440 (one day, the longest a CloudWatch alarm can look back); 0 turns the alarm off (got 2000)',
      ].join('\n'),
    );
    expect(() =>
      KafkaSource.selfManaged({ bootstrapServers: ['b:1'], topics: ['t'], batchSize: 20_000 }),
    ).toThrow(
      'KafkaSource.selfManaged: batchSize: must be at most 10000: the limit of a Kafka event source mapping (got 20000)',
    );
  });
});

describe('the silence check on a fresh account', () => {
  it('reserves no concurrency unless asked', () => {
    const stack = newStack();
    new SensorAnomalyDetector(stack, 'D');
    const functions = Object.values(
      Template.fromStack(stack).findResources('AWS::Lambda::Function'),
    );
    // The detector, the silence check and the email digest (docs/alerting.md).
    expect(functions).toHaveLength(3);
    for (const f of functions) expect(f.Properties.ReservedConcurrentExecutions).toBeUndefined();
    const reserved = newStack();
    new SensorAnomalyDetector(reserved, 'D', { silenceCheckReservedConcurrency: 1 });
    Template.fromStack(reserved).hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'silence-check' }) },
    });
  });
});

describe('the anomalies topic sink', () => {
  /** The functions that deliver anomalies to the sinks: the detector and the silence check. */
  const sinkFunctions = (template: Template) =>
    Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f) => f.Properties.Environment.Variables as Record<string, unknown>)
      // The email digest sends no anomaly to a sink (docs/alerting.md).
      .filter((v) => v.POWERTOOLS_SERVICE_NAME !== 'digest');

  it('signs in with the SCRAM secret the stack created, in both functions', () => {
    const stack = newStack();
    const detector = new SensorAnomalyDetector(stack, 'D', {
      kafkaSource: KafkaSource.selfManaged({
        bootstrapServers: ['b-1.kafka.example.com:9096'],
        topics: ['readings'],
        rootCaSecretArn: ROOT_CA,
      }),
      anomaliesTopic: { topic: 'anomalies' },
    });
    const template = Template.fromStack(stack);
    const created = stack.resolve(detector.trigger?.createdSecret?.secretArn);
    expect(created).toEqual({ Ref: expect.stringMatching(/KafkaCredentials/) });
    for (const variables of sinkFunctions(template)) {
      expect(variables[SINK_ENV.anomaliesSecretArn]).toEqual(created);
      expect(variables[SINK_ENV.anomaliesRootCaSecretArn]).toBe(ROOT_CA);
    }
    // The silence check reads both secrets itself (the mapping's grant is the detector's).
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('SilenceCheckRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['secretsmanager:GetSecretValue']),
            Resource: created,
          }),
          Match.objectLike({
            Action: Match.arrayWith(['secretsmanager:GetSecretValue']),
            Resource: ROOT_CA,
          }),
        ]),
      },
    });
    expect(nagFindings(stack)).toEqual([]);
  });

  it('in a VPC, says what the functions need to reach AWS until told how they do', () => {
    const inVpc = () =>
      KafkaSource.selfManaged({
        bootstrapServers: ['kafka-1.internal:9094'],
        topics: ['readings'],
        auth: 'none',
        vpc: VPC,
      });
    expect(
      () =>
        new SensorAnomalyDetector(newStack(), 'D', {
          kafkaSource: inVpc(),
          anomaliesTopic: { topic: 'anomalies' },
          anomaliesEventBus: 'plant-bus',
        }),
    ).toThrow(
      "Plant/D: network.awsAccess: the functions join vpc-0abc to reach the anomalies topic's brokers and then reach AWS only through it: give its subnets (subnet-01, subnet-02) a NAT gateway, or a DynamoDB gateway endpoint (com.amazonaws.<region>.dynamodb) on the subnets’ route tables, interface endpoints with private DNS for sns and events; then set network.awsAccess ('create-endpoints' to have the construct create them, 'vpc-endpoints' or 'nat-gateway') (not set)",
    );
    const stack = newStack();
    new SensorAnomalyDetector(stack, 'D', {
      kafkaSource: inVpc(),
      anomaliesTopic: { topic: 'anomalies' },
      network: { ...VPC, awsAccess: 'vpc-endpoints' },
      sqsEndpoint: { ...VPC, subnetIds: ['subnet-01'] },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { SubnetIds: ['subnet-01'] });
    // The "*" network-interface statements sit in policies of their own, which the cdk-nag
    // acknowledgements name; the functions wait for them (Lambda checks them on create).
    const policies = template.findResources('AWS::IAM::Policy');
    for (const [id, policy] of Object.entries(policies)) {
      const wildcard = (
        policy.Properties.PolicyDocument.Statement as { Resource: unknown }[]
      ).filter((s) => s.Resource === '*');
      if (wildcard.length > 0) {
        expect(id).toMatch(/NetworkInterfaces/);
        expect(policy.Properties.PolicyDocument.Statement).toHaveLength(1);
      }
    }
    // The email digest reaches only DynamoDB and SNS: it joins no VPC (docs/alerting.md).
    for (const f of Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME !== 'digest',
    ))
      expect(f.DependsOn).toEqual(
        expect.arrayContaining([expect.stringMatching(/NetworkInterfaces/)]),
      );
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('KMS grants', () => {
  it('allow each key only through the service that uses it (kms:ViaService)', () => {
    const stack = newStack();
    new SensorAnomalyDetector(stack, 'D', {
      kafkaSource: KafkaSource.msk({
        clusterArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/c/0f1e2d3c-1',
        topics: ['readings'],
        auth: 'sasl-scram-512',
        secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_x-AbCdEf',
        secretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k-1',
      }),
      anomaliesTopic: {
        topic: 'anomalies',
        bootstrapServers: ['b-1.msk.example.com:9096'],
      },
      network: { ...VPC, awsAccess: 'nat-gateway' },
    });
    const statements = Object.values(
      Template.fromStack(stack).findResources('AWS::IAM::Policy'),
    ).flatMap(
      (p) =>
        p.Properties.PolicyDocument.Statement as {
          Action: string | string[];
          Condition?: Record<string, Record<string, unknown>>;
        }[],
    );
    const kms = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));
    expect(kms.length).toBeGreaterThanOrEqual(4);
    for (const s of kms)
      expect(s.Condition?.StringEquals?.['kms:ViaService']).toMatch(
        /^(sns|secretsmanager)\.eu-west-1\.amazonaws\.com$/,
      );
  });
});
