/** Where a Kafka record came from; (topic, partition, offset) identifies a reading. */
export interface RecordSource {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** One Kafka record as delivered by the event source mapping, already base64-decoded. */
export interface RawRecord extends RecordSource {
  readonly timestampMs: number;
  /** `null` when the record has no key. */
  readonly key: Uint8Array | null;
  /** `null` when the record has no value (a tombstone) or its base64 was invalid. */
  readonly value: Uint8Array | null;
  /** Set when the event carried a value that was not valid base64. */
  readonly malformedBase64?: boolean;
  /**
   * For a record the repartition step re-produced keyed by sensor: where it was read from
   * (headers `source-topic`, `source-partition`, `source-offset`). The detector drops a copy
   * whose source offset it has already decided (docs/state.md).
   */
  readonly origin?: RecordSource;
}

export interface Reading {
  readonly sensorId: string;
  readonly value: number;
  readonly eventTimeMs: number;
  readonly source: RecordSource;
  /**
   * Position of the reading in a record that carries several (1, 2, …); absent for a
   * record's first or only reading. Its alert id is `<topic>-<partition>-<offset>.<index>`.
   */
  readonly index?: number;
}

/** Running aggregates of one (sensor, bucket), or of a whole window. */
export interface Aggregate {
  readonly count: number;
  readonly sum: number;
  readonly sumSq: number;
}

export const EMPTY_AGGREGATE: Aggregate = { count: 0, sum: 0, sumSq: 0 };

export const SEVERITIES = { warning: 'warning', critical: 'critical' } as const;
export type Severity = (typeof SEVERITIES)[keyof typeof SEVERITIES];

/** A reading judged anomalous, with everything the log line and the alert need. */
export interface Anomaly {
  /** `<topic>-<partition>-<offset>`: the same on every retry, so subscribers can de-duplicate. */
  readonly alertId: string;
  readonly sensorId: string;
  readonly value: number;
  /** The window mean, or for `ewma` the sensor's learned mean (the reading's baseline). */
  readonly mean: number;
  /** Readings in the window, or for `ewma` the readings learned before this one. */
  readonly count: number;
  readonly deviation: number;
  /** The detector's limit for this reading (threshold, or the k·σ band's half-width). */
  readonly limit: number;
  readonly detector: string;
  /** For the zscore and ewma detectors: the k in k·σ. */
  readonly sigma?: number;
  readonly eventTimeMs: number;
  readonly severity: Severity;
  readonly source: RecordSource;
  /**
   * Why it is an anomaly, when the detector says (robust, limits, and any rule's limits guard):
   * the test that fired (spike, dip, level shift, drift, variance, flat line, new extreme,
   * limit), the calibrated score in [0, 1), the value expected and the band of normal readings.
   */
  readonly test?: string;
  readonly score?: number;
  readonly expected?: number;
  readonly expectedLow?: number;
  readonly expectedHigh?: number;
  /**
   * Window-close evaluation (semantics.md §3): the end of the window the reading was flagged
   * in (a reading may be flagged once per window), and how the seed job printed its numbers,
   * so that the log line is the seed's own.
   */
  readonly windowEndMs?: number;
  readonly seedFormat?: 'python' | 'java';
}

/** An anomaly together with what the cooldown decided for it. */
export interface AlertDecision {
  readonly anomaly: Anomaly;
  /** True when this anomaly is sent to SNS; false when the sensor's cooldown held it back. */
  readonly notify: boolean;
  /** For a notified anomaly: how many anomalies of the sensor were held back before it. */
  readonly heldBackBefore: number;
  /**
   * Older than the freshness limit when judged (a backlog): never sent on its own, listed in
   * the period's email digest only (docs/alerting.md). `notify` is false.
   */
  readonly stale?: boolean;
  /** Notified inside the cooldown because it is clearly worse than the last notification. */
  readonly escalated?: boolean;
  /** The sensor's episode this anomaly belongs to: the alert id of its first anomaly. */
  readonly episodeId?: string;
  /**
   * Set on the notification that carries a group alert (docs/alerting-groups.md): it is sent
   * as the group's message, and the group's other notifications of the commit are not sent.
   */
  readonly group?: GroupSummary;
}

/** A group alert: more than `threshold` sensors of the group notified within its period. */
export interface GroupSummary {
  /** The group (an id prefix such as `site-a/line-1`, or a rule's name), cut to 128 characters. */
  readonly key: string;
  readonly threshold: number;
  readonly periodSeconds: number;
  /** Sensors and notifications of this commit folded into the alert. */
  readonly sensors: number;
  readonly alerts: number;
  /** Sensors of the group notified in the period so far, earlier commits included. */
  readonly inPeriod: number;
  readonly severity: Severity;
  /** The first few sensor ids, cut short; the log and the sinks have every alert. */
  readonly listed: readonly string[];
}
