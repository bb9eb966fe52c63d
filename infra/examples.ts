/**
 * The deploy examples of docs/deploy.md, kept here so the tests synthesize exactly the
 * commands the documentation shows (test/infra/docs.test.ts checks the quotes).
 * Account ids, ARNs and addresses are placeholders.
 */
export interface DeployExample {
  readonly title: string;
  /** Given as `-c key=value` on top of the defaults in cdk.json. */
  readonly context: Readonly<Record<string, string>>;
}

const MSK_CLUSTER_ARN =
  'arn:aws:kafka:eu-west-1:123456789012:cluster/sensors/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-3';

export const DEPLOY_EXAMPLES = {
  selfManaged: {
    title: 'Self-managed Kafka over the internet, SASL/SCRAM-512, email and SMS alerts',
    context: {
      bootstrapServers: 'b-1.kafka.example.com:9096,b-2.kafka.example.com:9096',
      topics: 'sensor-readings',
      kafkaSecretArn:
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka/anomaly-detector-AbCdEf',
      alertEmails: 'oncall@example.com',
      alertSmsNumbers: '+14155550100',
      opsEmails: 'platform@example.com',
    },
  },
  selfManagedVpcMtls: {
    title: 'Self-managed Kafka inside a VPC, mutual TLS with a private CA, z-score detection',
    context: {
      bootstrapServers: 'kafka-1.internal:9094,kafka-2.internal:9094',
      topics: 'plant-a.readings,plant-b.readings',
      kafkaAuth: 'mtls',
      kafkaSecretArn:
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka/client-cert-AbCdEf',
      rootCaSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka/root-ca-GhIjKl',
      vpcId: 'vpc-0a1b2c3d4e5f67890',
      subnetIds: 'subnet-0a1b2c3d4e5f67891,subnet-0a1b2c3d4e5f67892',
      securityGroupId: 'sg-0a1b2c3d4e5f67893',
      detector: 'zscore',
      zscoreSigma: '3.5',
      opsEmails: 'platform@example.com',
    },
  },
  mskIam: {
    title: 'Amazon MSK with IAM access control',
    context: {
      kafkaSource: 'msk',
      mskClusterArn: MSK_CLUSTER_ARN,
      topics: 'sensor-readings',
      alertEmails: 'oncall@example.com',
      opsEmails: 'platform@example.com',
    },
  },
  mskScramProvisioned: {
    title: 'Amazon MSK with SASL/SCRAM, provisioned pollers and per-sensor rules',
    context: {
      kafkaSource: 'msk',
      mskClusterArn: MSK_CLUSTER_ARN,
      kafkaAuth: 'sasl-scram-512',
      kafkaSecretArn:
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_anomaly-detector-AbCdEf',
      kafkaSecretKmsKeyArn:
        'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      topics: 'sensor-readings',
      provisionedMinPollers: '1',
      provisionedMaxPollers: '4',
      retryAttempts: '100',
      detectorRulesFile: 'infra/examples/detector-rules.json',
      alertSmsNumbers: '+14155550100,+442071838750',
      smsCriticalOnly: 'true',
    },
  },
} as const satisfies Record<string, DeployExample>;

export type DeployExampleName = keyof typeof DEPLOY_EXAMPLES;

/** The CLI command for a context set, one `-c` per line, as docs/deploy.md shows it. */
export function cdkCommand(
  verb: 'synth' | 'deploy' | 'destroy',
  context: Readonly<Record<string, string>> = {},
): string {
  const args = Object.entries(context).map(([key, value]) => `-c ${key}=${shellQuote(value)}`);
  return [`npx cdk ${verb} --no-notices`, ...args].join(' \\\n  ');
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}
