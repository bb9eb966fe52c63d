/**
 * The package entry point: the SensorAnomalyDetector construct for existing CDK apps
 * (docs/deploy.md, "Adding the detector to an existing CDK app").
 */

export { DeployConfigError, type VpcNetworkConfig } from './config.ts';
export { Repartition, type RepartitionProps } from './constructs/repartition.ts';
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
