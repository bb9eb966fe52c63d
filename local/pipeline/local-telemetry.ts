import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../functions/telemetry-names.ts';

/**
 * A local function's Powertools logger and metrics, as Lambda builds them for the same
 * service: silent unless `--lambda-logs` asks for the JSON lines a deployed function writes.
 */
export function localTelemetry(
  serviceName: string,
  lambdaLogs: boolean | undefined,
): { logger: Logger; metrics: Metrics } {
  const logger = new Logger({ serviceName, logLevel: lambdaLogs ? 'INFO' : 'SILENT' });
  const options = { namespace: METRICS_NAMESPACE, serviceName, logger };
  const metrics = lambdaLogs ? new Metrics(options) : new SilentMetrics(options);
  return { logger, metrics };
}

/**
 * Metrics that are recorded and dropped, single metrics included: the local functions count
 * in their own status lines. Powertools' own switch is the process-wide environment variable
 * POWERTOOLS_METRICS_DISABLED, read whenever a Metrics instance is built; setting it here
 * silenced every Metrics built later in the process, the Lambda handler's included, wherever
 * the local pipeline and a handler share one process (the tests).
 */
class SilentMetrics extends Metrics {
  constructor(private readonly options: ConstructorParameters<typeof Metrics>[0] & object) {
    super(options);
  }

  override publishStoredMetrics(): this {
    this.clearMetrics();
    this.clearDimensions();
    this.clearMetadata();
    return this;
  }

  override singleMetric(): Metrics {
    return new SilentMetrics({ ...this.options, singleMetric: true });
  }
}
