/**
 * A prop of SensorAnomalyDetector or KafkaSource that cannot work: one line that names the
 * prop and the bad value.
 */
export class SensorAnomalyDetectorError extends Error {
  override readonly name = 'SensorAnomalyDetectorError';
}
