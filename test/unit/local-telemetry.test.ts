import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { localTelemetry } from '../../local/pipeline/local-telemetry.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';

/** The EMF lines (metrics) written to stdout and stderr while `act` runs. */
function emfWrittenBy(act: () => void): Record<string, unknown>[] {
  const out = captureStdout();
  try {
    act();
    return out.json().filter((l) => '_aws' in l);
  } finally {
    out.restore();
  }
}

describe('local telemetry', () => {
  it('quiet: publishes nothing, single metrics included, and leaves other Metrics publishing', () => {
    const emf = emfWrittenBy(() => {
      // Prepare
      const { metrics } = localTelemetry('local-test', false);
      // Act
      metrics.addMetric('Quiet', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      metrics.singleMetric().addMetric('QuietSingle', MetricUnit.Count, 1);
      const lambda = new Metrics({ namespace: 'Test', serviceName: 'lambda' });
      lambda.addMetric('Loud', MetricUnit.Count, 1);
      lambda.publishStoredMetrics();
    });
    // Assess: only the Lambda-built instance wrote its EMF line
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ Loud: 1 });
    expect(process.env.POWERTOOLS_METRICS_DISABLED).toBeUndefined();
  });

  it('--lambda-logs: the JSON lines a deployed function writes', () => {
    const emf = emfWrittenBy(() => {
      const { metrics } = localTelemetry('local-test', true);
      metrics.addMetric('Counted', MetricUnit.Count, 2);
      metrics.publishStoredMetrics();
    });
    expect(emf).toMatchObject([{ Counted: 2 }]);
  });
});
