import { CfnParameter, CfnRule, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CONTEXT_DEFAULTS, type DeployConfig } from '../config.ts';
import { SensorAnomalyDetector } from '../sensor-anomaly-detector.ts';

export interface AnomalyDetectorStackProps extends StackProps {
  readonly config: DeployConfig;
}

/** The text a `cdk deploy` with the placeholder brokers fails with. */
export const PLACEHOLDER_BROKERS_MESSAGE = `bootstrapServers is the placeholder ${CONTEXT_DEFAULTS.bootstrapServers.join(',')}: deploy with -c bootstrapServers=host:port,... (or -c kafkaSource=msk -c mskClusterArn=..., see docs/deploy.md)`;

/**
 * The `cdk.json` / `-c key=value` layer: one SensorAnomalyDetector configured from CDK
 * context, with the stack outputs.
 */
export class AnomalyDetectorStack extends Stack {
  readonly detector: SensorAnomalyDetector;

  constructor(scope: Construct, id: string, props: AnomalyDetectorStackProps) {
    super(scope, id, {
      description: 'Serverless real-time anomaly detection for Kafka sensor streams',
      ...props,
    });
    const { config } = props;
    this.detector = new SensorAnomalyDetector(this, 'Detector', config.props);
    this.detector.addOutputs(this);

    const kafka = config.kafka;
    if (
      config.eventSourceMapping &&
      kafka.kind === 'self-managed' &&
      kafka.bootstrapServers.join(',') === CONTEXT_DEFAULTS.bootstrapServers.join(',')
    ) {
      // The CLI runs the app the same way for synth and deploy, so the app cannot refuse a
      // deploy only. CloudFormation can: "Use the rules section to validate parameter values
      // before creating or updating resources" (AWS CloudFormation user guide, "Rules",
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html),
      // and the change set fails with AssertDescription as its message. The CDK fails deploys
      // to an old bootstrap stack the same way (CheckBootstrapVersion, aws-cdk-lib
      // core/lib/stack-synthesizers/stack-synthesizer.ts, addBootstrapVersionRule).
      const brokers = new CfnParameter(this, 'PlaceholderBootstrapServers', {
        type: 'String',
        default: kafka.bootstrapServers.join(','),
        description:
          'The Kafka brokers this template was synthesized with (the placeholder default of bootstrapServers).',
      });
      new CfnRule(this, 'RequireRealBootstrapServers', {
        assertions: [
          {
            assert: Fn.conditionNot(
              Fn.conditionEquals(
                brokers.valueAsString,
                CONTEXT_DEFAULTS.bootstrapServers.join(','),
              ),
            ),
            assertDescription: PLACEHOLDER_BROKERS_MESSAGE,
          },
        ],
      });
    }
  }
}
