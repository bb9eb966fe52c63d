import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { parseReading } from '../../functions/core/parse-reading.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { bucketStartMs } from '../../functions/core/windows.ts';
import type { DetectionSettings } from '../../functions/process-batch.ts';

/**
 * The design this project is measured against, deliberately simple and NOT product code:
 * each reading is one UpdateItem (ADD count, sum, sumSq to its bucket, ALL_NEW returned),
 * one strongly consistent GetItem per older bucket of its window, and each anomaly one SNS
 * Publish (no cooldown, no batching). It is neither exactly-once (a retried batch adds its
 * readings again) nor rate-limited; it is here only for its request counts.
 */
export async function runNaive(
  records: readonly RawRecord[],
  settings: DetectionSettings & { readonly tableName: string; readonly topicArn: string },
  clients: { readonly dynamodb: DynamoDBClient; readonly sns: SNSClient },
  nowMs: number,
): Promise<{ readings: number; anomalies: number }> {
  const k = settings.windowMs / settings.slideMs;
  const threshold =
    settings.defaultDetector.kind === 'threshold' ? settings.defaultDetector.threshold : 50;
  const ttl =
    Math.floor(nowMs / 1000) +
    Math.ceil(settings.windowMs / 1000) +
    settings.retentionMarginSeconds;
  let readings = 0;
  let anomalies = 0;

  // Partitions in parallel, each in offset order: the least a per-record design must keep.
  const byPartition = new Map<string, RawRecord[]>();
  for (const r of records) {
    const id = `${r.topic}#${r.partition}`;
    const list = byPartition.get(id);
    if (list === undefined) byPartition.set(id, [r]);
    else list.push(r);
  }
  await Promise.all(
    [...byPartition.values()].map(async (partition) => {
      for (const record of partition) {
        const parsed = parseReading(record);
        if (!parsed.ok) continue;
        readings += 1;
        const { sensorId, value, eventTimeMs } = parsed.reading;
        const own = bucketStartMs(eventTimeMs, settings);
        const updated = await clients.dynamodb.send(
          new UpdateItemCommand({
            TableName: settings.tableName,
            Key: { pk: { S: `sensor#${sensorId}` }, sk: { S: `bucket#${own}` } },
            UpdateExpression: 'ADD #c :one, #s :v, #q :v2 SET #ttl = :ttl',
            ExpressionAttributeNames: {
              '#c': 'count',
              '#s': 'sum',
              '#q': 'sumSq',
              '#ttl': 'expiresAtEpochSeconds',
            },
            ExpressionAttributeValues: {
              ':one': { N: '1' },
              ':v': { N: String(value) },
              ':v2': { N: String(value * value) },
              ':ttl': { N: String(ttl) },
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        let count = Number(updated.Attributes?.count?.N ?? 0);
        let sum = Number(updated.Attributes?.sum?.N ?? 0);
        for (let i = 1; i < k; i += 1) {
          const older = await clients.dynamodb.send(
            new GetItemCommand({
              TableName: settings.tableName,
              Key: {
                pk: { S: `sensor#${sensorId}` },
                sk: { S: `bucket#${own - i * settings.slideMs}` },
              },
              ConsistentRead: true,
            }),
          );
          count += Number(older.Item?.count?.N ?? 0);
          sum += Number(older.Item?.sum?.N ?? 0);
        }
        const mean = sum / count;
        if (Math.abs(value - mean) <= threshold) continue;
        anomalies += 1;
        await clients.sns.send(
          new PublishCommand({
            TopicArn: settings.topicArn,
            Subject: `Anomaly on ${sensorId}`,
            Message: `ANOMALY → ${sensorId}: value=${value}, avg=${mean.toFixed(2)}`,
          }),
        );
      }
    }),
  );
  return { readings, anomalies };
}
