import type { DetectorSpec } from '../../functions/core/detectors.ts';

/** A detector in a few words, as `npm start`'s banner and `npm run rules` print it. */
export function describeDetector(spec: DetectorSpec): string {
  switch (spec.kind) {
    case 'threshold':
      return `threshold ${spec.threshold}`;
    case 'adaptive':
      return `adaptive (score > ${spec.scoreThreshold})`;
    default:
      return `${spec.kind} ${spec.sigma}σ`;
  }
}
