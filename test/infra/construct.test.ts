import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  KafkaSource,
  SensorAnomalyDetector,
  SensorAnomalyDetectorError,
} from '../../infra/index.ts';
import { templateOnlyApp } from './synth.ts';

describe('SensorAnomalyDetector props are checked at synth', () => {
  const stack = () => new Stack(templateOnlyApp(), 'S');
  const broker = { bootstrapServers: ['b:9096'], topics: ['t'] };

  it('refuses a timeout the Kafka mapping does not support (item 2)', () => {
    expect(() => new SensorAnomalyDetector(stack(), 'D', { timeoutSeconds: 900 })).toThrow(
      new SensorAnomalyDetectorError(
        'S/D: timeoutSeconds: must be at most 840: Kafka event source mappings only support functions with a timeout of at most 14 minutes (840 s) (got 900)',
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
    ).toThrow(
      /secretKmsKeyArn: required when auth is sasl-scram-512 on MSK: MSK cannot use a secret encrypted with the default AWS managed key/,
    );
    expect(() =>
      KafkaSource.msk({
        clusterArn,
        topics: ['t'],
        auth: 'sasl-scram-512',
        secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka-AbCdEf',
        secretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k',
      }),
    ).toThrow(
      /secretArn: an MSK SCRAM secret's name must begin with AmazonMSK_ \(got the name "kafka"\)/,
    );
  });

  it('refuses unauthenticated brokers outside a VPC', () => {
    expect(() => KafkaSource.selfManaged({ ...broker, auth: 'none' })).toThrow(
      'KafkaSource.selfManaged: auth: none requires vpc',
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
