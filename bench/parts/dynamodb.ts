import { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';
import { startSnsEndpoint } from '../../local/embedded/sns-endpoint.ts';
import {
  FLINK_ASSUMPTIONS,
  flinkMonthlyUsd,
  LAMBDA_ASSUMPTIONS,
  PRICES,
  SECONDS_PER_MONTH,
} from '../lib/cost-model.ts';
import { startDynaliteProcess } from '../lib/dynalite-process.ts';
import { DynamoDbMeter, SnsMeter } from '../lib/dynamodb-meter.ts';
import { round } from '../lib/stats.ts';
import { type CostScenario, costScenarioSpecs, measureScenario } from './dynamodb-cost.ts';
import { batchShapes, measureShape, type ShapeResult } from './dynamodb-shapes.ts';

export interface DynamoDbOptions {
  readonly quick: boolean;
}

export interface FleetCost {
  readonly sensors: number;
  readonly hz: number;
  readonly readingsPerSecond: number;
  readonly oursMonthlyUsd: number;
  readonly naiveMonthlyUsd: number;
  readonly flinkKpus: number;
  readonly flinkMonthlyUsd: number;
}

export interface FleetTable {
  readonly rows: readonly FleetCost[];
  /** Per sensor rate: the fleet rate (readings/s) above which Managed Flink costs less. */
  readonly crossoverReadingsPerSecond: Readonly<Record<string, number>>;
  readonly flink: typeof FLINK_ASSUMPTIONS;
}

export interface DynamoDbResult {
  readonly shapes: readonly ShapeResult[];
  readonly costScenarios: readonly CostScenario[];
  readonly fleet: FleetTable;
  readonly prices: typeof PRICES;
  readonly lambdaAssumptions: typeof LAMBDA_ASSUMPTIONS;
  readonly note: string;
}

/**
 * DynamoDB requests and request units of the real handler (createHandler, the DynamoDB and
 * SNS adapters) against dynalite, per batch shape, beside a naive per-record design; then
 * the cost of a sustained stream at on-demand prices.
 */
export async function runDynamoDb(options: DynamoDbOptions): Promise<DynamoDbResult> {
  // Quiet telemetry: the bench measures requests, not log volume (Powertools reads this at construction).
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  // dynalite in its own process: this process's CPU is then the handler's alone (SDK included).
  const dynamo = await startDynaliteProcess();
  const sns = await startSnsEndpoint();
  // The SDK's default retries: a keep-alive socket that the local server closes just as it is
  // reused fails with ECONNRESET now and then. The meter counts commands, not attempts, so a
  // retried request is counted once, as DynamoDB bills it (the failed attempt never arrived).
  const dynamodb = localDynamoDbClient(dynamo.endpoint);
  const snsClient = localSnsClient(sns.endpoint);
  const meter = new DynamoDbMeter();
  const snsMeter = new SnsMeter();
  meter.attach(dynamodb);
  snsMeter.attach(snsClient);
  const env = { dynamodb, sns: snsClient, meter, snsMeter };
  try {
    const naiveRecords = options.quick ? 300 : 1000;
    const shapes: ShapeResult[] = [];
    for (const shape of batchShapes()) {
      shapes.push(await measureShape(shape.batch, shape.detector, env, naiveRecords));
    }
    const costScenarios: CostScenario[] = [];
    for (const scenario of costScenarioSpecs(options.quick)) {
      costScenarios.push(await measureScenario(scenario, env, naiveRecords));
    }
    return {
      shapes,
      costScenarios,
      fleet: fleetTable(costScenarios),
      prices: PRICES,
      lambdaAssumptions: LAMBDA_ASSUMPTIONS,
      note:
        'Each shape: the batch before it is processed first (unmetered), so the metered batch finds ' +
        'the table as a running deployment would. The naive baseline runs every reading of a sample of ' +
        `the sensors (about ${naiveRecords.toLocaleString('en-US')} records, primed the same way); its per-record figures scale to the batch. ` +
        'dynalite runs in its own process, so the CPU figures are the handler process alone (AWS SDK included).',
    };
  } finally {
    dynamodb.destroy();
    snsClient.destroy();
    await sns.close();
    await dynamo.stop();
  }
}

/**
 * Monthly cost of fleets at the deploy defaults' measured cost per reading (this design and
 * the naive one) beside Managed Flink's KPU-hours, and the fleet rate at which Flink gets
 * cheaper.
 */
function fleetTable(scenarios: readonly CostScenario[]): FleetTable {
  const rows: FleetCost[] = [];
  const crossover: Record<string, number> = {};
  for (const hz of [1, 10]) {
    const c = scenarios.find(
      (x) => x.hz === hz && x.name.includes('deploy defaults') && !x.name.includes('unkeyed'),
    );
    if (c === undefined) continue;
    const ours = c.ours.costPerMillion.totalUsd / 1e6;
    const naive = c.naive.costPerMillion.totalUsd / 1e6;
    for (const sensors of [1_000, 10_000, 100_000]) {
      const rate = sensors * hz;
      const flink = flinkMonthlyUsd(rate);
      rows.push({
        sensors,
        hz,
        readingsPerSecond: rate,
        oursMonthlyUsd: round(ours * rate * SECONDS_PER_MONTH, 2),
        naiveMonthlyUsd: round(naive * rate * SECONDS_PER_MONTH, 2),
        flinkKpus: flink.kpus,
        flinkMonthlyUsd: round(flink.usd, 2),
      });
    }
    let rate = 1;
    while (rate < 1e8 && flinkMonthlyUsd(rate).usd >= ours * rate * SECONDS_PER_MONTH)
      rate = Math.ceil(rate * 1.01);
    crossover[`${hz} Hz`] = rate;
  }
  return { rows, crossoverReadingsPerSecond: crossover, flink: FLINK_ASSUMPTIONS };
}
