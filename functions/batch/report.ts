import type { BatchReport } from '../ports.ts';

export type MutableReport = {
  -readonly [K in keyof BatchReport]: BatchReport[K] extends Readonly<Record<string, number>>
    ? Record<string, number>
    : BatchReport[K];
};

export function emptyReport(records: number): MutableReport {
  return {
    records,
    readings: 0,
    rejectedByReason: {},
    redelivered: 0,
    duplicates: 0,
    anomalies: 0,
    notificationsSent: 0,
    notificationsHeldBack: 0,
    notificationsStale: 0,
    notificationsEscalated: 0,
    episodesEnded: 0,
    notificationsMuted: 0,
    notificationsGrouped: 0,
    groupAlerts: 0,
    bucketsWritten: 0,
    bucketKeysRead: 0,
    lateReadings: 0,
    lateWindowDrops: 0,
    windowsClosed: 0,
  };
}

/** A copy of `report` to count one attempt into; merged only once the attempt succeeded. */
export function addInto(total: MutableReport, part: MutableReport): void {
  total.readings += part.readings;
  for (const [reason, n] of Object.entries(part.rejectedByReason))
    total.rejectedByReason[reason] = (total.rejectedByReason[reason] ?? 0) + n;
  total.redelivered += part.redelivered;
  total.duplicates += part.duplicates;
  total.anomalies += part.anomalies;
  total.notificationsSent += part.notificationsSent;
  total.notificationsHeldBack += part.notificationsHeldBack;
  total.notificationsStale += part.notificationsStale;
  total.notificationsEscalated += part.notificationsEscalated;
  total.episodesEnded += part.episodesEnded;
  total.notificationsMuted += part.notificationsMuted;
  total.notificationsGrouped += part.notificationsGrouped;
  total.groupAlerts += part.groupAlerts;
  total.bucketsWritten += part.bucketsWritten;
  total.bucketKeysRead += part.bucketKeysRead;
  total.lateReadings = (total.lateReadings ?? 0) + (part.lateReadings ?? 0);
  total.lateWindowDrops = (total.lateWindowDrops ?? 0) + (part.lateWindowDrops ?? 0);
  total.windowsClosed = (total.windowsClosed ?? 0) + (part.windowsClosed ?? 0);
}
