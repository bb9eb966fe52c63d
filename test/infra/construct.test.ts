import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  KafkaSource,
  SensorAnomalyDetector,
  SensorAnomalyDetectorError,
} from '../../infra/index.ts';

describe('SensorAnomalyDetector props are checked at synth', () => {
  const stack = () => new Stack(new App(), 'S');
  const broker = { bootstrapServers: ['b:9096'], topics: ['t'] };

  it('refuses a timeout the Kafka mapping does not support (item 2)', () => {
    expect(() => new SensorAnomalyDetector(stack(), 'D', { timeoutSeconds: 900 })).toThrow(
      new SensorAnomalyDetectorError(
        'S/D: timeoutSeconds must be 1-840: Kafka event source mappings only support functions with a timeout of at most 14 minutes (got 900)',
      ),
    );
  });

  it('refuses MSK SCRAM without the secret key or the AmazonMSK_ name (item 3)', () => {
    const clusterArn = 'arn:aws:kafka:eu-west-1:123456789012:cluster/c/0f1e2d3c-1';
    expect(() =>
      KafkaSource.msk({
        clusterArn,
        topics: ['t'],
        auth: 'sasl-scram-512',
        secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_x-AbCdEf',
      }),
    ).toThrow(/needs secretArn and secretKmsKeyArn/);
    expect(() =>
      KafkaSource.msk({
        clusterArn,
        topics: ['t'],
        auth: 'sasl-scram-512',
        secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka-AbCdEf',
        secretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k',
      }),
    ).toThrow(/must begin with AmazonMSK_ \(got "kafka"\)/);
  });

  it('refuses unauthenticated brokers outside a VPC', () => {
    expect(() => KafkaSource.selfManaged({ ...broker, auth: 'none' })).toThrow(
      /auth none needs vpc/,
    );
  });

  it('creates no mapping without a kafkaSource (attach your own trigger)', () => {
    const s = stack();
    const detector = new SensorAnomalyDetector(s, 'D');
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    expect(detector.function).toBe(detector.detector.function);
  });
});
