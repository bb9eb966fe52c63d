/**
 * The detector flags both local CLIs share (`npm run backtest`, `npm start`): one definition,
 * in local/cli/detector-flags.ts, re-exported here for the backtest's options.
 */
export {
  DETECTOR_FLAG_NAMES,
  DETECTOR_FLAGS,
  DETECTOR_FLAGS_HELP,
  detectorFromFlags,
} from '../cli/detector-flags.ts';
