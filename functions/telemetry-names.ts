/**
 * Names shared by the handler's EMF metrics and the CDK alarms and dashboard.
 * Powertools adds the `service` dimension to every metric.
 */
export const METRICS_NAMESPACE = 'SensorAnomalyDetector';
export const SERVICE_NAME = 'anomaly-detector';

export const METRIC = {
  recordsReceived: 'RecordsReceived',
  /** Every rejected record, whatever the reason (alarm on its rate against RecordsReceived). */
  recordsRejected: 'RecordsRejected',
  /** The same, with a `reason` dimension (one of REJECT_REASONS). */
  recordsRejectedByReason: 'RecordsRejectedByReason',
  recordsRedelivered: 'RecordsRedelivered',
  anomalies: 'Anomalies',
  notificationsSent: 'NotificationsSent',
  notificationsHeldBack: 'NotificationsHeldBack',
  /** Anomalies older than the freshness limit: in the digest only (docs/alerting.md). */
  notificationsStale: 'NotificationsStale',
  /** Notified inside a cooldown, clearly worse than the last notification. */
  notificationsEscalated: 'NotificationsEscalated',
  episodesEnded: 'EpisodesEnded',
  /** Email digests sent by the digest function (at most one per period). */
  digestsSent: 'DigestsSent',
  /** Anomalies inside maintenance windows: counted, not notified (docs/alerting-groups.md). */
  notificationsMuted: 'NotificationsMuted',
  /** Notifications folded into group alerts, and the group alerts sent for them. */
  notificationsGrouped: 'NotificationsGrouped',
  groupAlerts: 'GroupAlerts',
  /** Silent alerts of sensors replaced by one group silent alert (docs/alerting-groups.md). */
  silenceAlertsInhibited: 'SilenceAlertsInhibited',
  batchDurationMs: 'BatchDuration',
  /** A check of the rules document found it invalid (docs/rules.md); the alarm watches it. */
  rulesDocumentInvalid: 'RulesDocumentInvalid',
  /** The silence check (docs/silence.md): silent and recovered alerts decided per check. */
  silenceAlerts: 'SilenceAlerts',
  /** Sensors declared silent and not recovered, after each check. */
  silentSensors: 'SilentSensors',
} as const;

/** The silence check's Powertools service name (its metrics carry it as `service`). */
export const SILENCE_SERVICE_NAME = 'silence-check';
/** The scheduled window flush of window-close evaluation. */
export const WINDOW_FLUSH_SERVICE_NAME = 'window-flush';

/** The digest function's Powertools service name (docs/alerting.md). */
export const DIGEST_SERVICE_NAME = 'digest';

/** The repartition step's service name (Powertools), beside the detector's. */
export const REPARTITION_SERVICE_NAME = 'repartition';
