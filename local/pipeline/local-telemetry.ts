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
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName, logger });
  return { logger, metrics };
}
