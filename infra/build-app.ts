import { Annotations, type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  CONTEXT_DEFAULTS,
  type DeployConfig,
  type ParseOptions,
  parseDeployConfig,
} from './config.ts';
import { AnomalyDetectorStack } from './stacks/anomaly-detector-stack.ts';

export interface DetectorApp {
  readonly config: DeployConfig;
  readonly stack: AnomalyDetectorStack;
}

/**
 * Adds the detector stack, configured from the app's context, and the cdk-nag AwsSolutions
 * checks (an unacknowledged finding fails synth). Shared by `infra/app.ts` and the tests.
 */
export function buildDetectorApp(app: App, options: ParseOptions = {}): DetectorApp {
  const config = parseDeployConfig(app.node.getAllContext(), options);
  const stack = new AnomalyDetectorStack(app, config.stackName, {
    config,
    stackName: config.stackName,
    env: {
      account: process.env.CDK_DEFAULT_ACCOUNT,
      // A Kafka mapping must live in its MSK cluster's region, so the ARN decides it.
      region: config.region ?? process.env.CDK_DEFAULT_REGION,
    },
  });
  // The default synthesizes without an account, but its brokers are a placeholder: say so on
  // every synth; the stack's CloudFormation rule makes `cdk deploy` fail with it.
  if (
    config.eventSourceMapping &&
    config.kafka.kind === 'self-managed' &&
    config.kafka.bootstrapServers.join(',') === CONTEXT_DEFAULTS.bootstrapServers.join(',')
  ) {
    Annotations.of(stack).addWarningV2(
      'anomaly-detector:placeholder-brokers',
      `bootstrapServers is the placeholder ${CONTEXT_DEFAULTS.bootstrapServers.join(',')}: ` +
        '`cdk deploy` fails until you set it: -c bootstrapServers=host:port,... (or kafkaSource=msk, see docs/deploy.md)',
    );
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { config, stack };
}
