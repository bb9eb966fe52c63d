import { App } from 'aws-cdk-lib';
import { buildDetectorApp } from './build-app.ts';
import { DeployConfigError } from './config.ts';
import { SensorAnomalyDetectorError } from './sensor-anomaly-detector.ts';

// `cdk synth` / `cdk deploy` run this (see cdk.json). A config error prints the list of
// bad context keys instead of a stack trace.
const app = new App();
try {
  buildDetectorApp(app);
} catch (error) {
  if (!(error instanceof DeployConfigError || error instanceof SensorAnomalyDetectorError))
    throw error;
  console.error(error.message);
  process.exit(1);
}
app.synth();
