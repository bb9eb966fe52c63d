/**
 * The package entry point: the SensorAnomalyDetector construct for existing CDK apps
 * (docs/deploy.md, "Adding the detector to an existing CDK app").
 */

export type { FieldMapping } from '../functions/core/readings/field-mapping.ts';
export { Repartition, type RepartitionProps } from './constructs/repartition.ts';
export type {
  ConfluentRegistryProps,
  GlueRegistryProps,
  SchemaRegistryProps,
} from './constructs/schema-registry-access.ts';
export {
  DETECTION_DEFAULTS,
  DETECTION_KEYS,
  type DetectionKey,
  type DetectionSettings,
  type DetectorRulesDocument,
} from './detection.ts';
export { SensorAnomalyDetectorError } from './errors.ts';
export {
  KAFKA_DEFAULTS,
  KafkaSource,
  type KafkaSourceCommonProps,
  type MskAuth,
  type MskKafkaSourceProps,
  type ProvisionedPollersProps,
  type SelfManagedAuth,
  type SelfManagedKafkaSourceProps,
  type StartingPositionName,
  type VpcNetworkConfig,
} from './kafka-source.ts';
export {
  type AnomaliesTopicProps,
  DETECTOR_DEFAULTS,
  type DetectorNetworkProps,
  SensorAnomalyDetector,
  type SensorAnomalyDetectorProps,
  type TableCapacityProps,
  type VpcAwsAccess,
} from './sensor-anomaly-detector.ts';
