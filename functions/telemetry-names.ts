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
  batchDurationMs: 'BatchDuration',
  /** A check of the rules document found it invalid (docs/rules.md); the alarm watches it. */
  rulesDocumentInvalid: 'RulesDocumentInvalid',
} as const;
