/**
 * The package entry point: the SensorAnomalyDetector construct for existing CDK apps
 * (docs/deploy.md, "Adding the detector to an existing CDK app").
 */

export type { FieldMapping } from '../functions/core/readings/field-mapping.ts';
export { DeployConfigError, type VpcNetworkConfig } from './config.ts';
export type {
  ConfluentRegistryProps,
  GlueRegistryProps,
  RegistryNetwork,
  SchemaRegistryProps,
} from './constructs/schema-registry-access.ts';
export {
  type DetectionSettings,
  detectionEnvironment,
  KafkaSource,
  type KafkaSourceCommonProps,
  type MskKafkaSourceProps,
  type ProvisionedPollersProps,
  type SelfManagedKafkaSourceProps,
  SensorAnomalyDetector,
  SensorAnomalyDetectorError,
  type SensorAnomalyDetectorProps,
} from './sensor-anomaly-detector.ts';
