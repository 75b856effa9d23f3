import type { PrunerConfig } from '../types.js';
import { HyperbandPruner, NopPruner, PercentilePruner, SuccessiveHalvingPruner, type Pruner } from './index.js';

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function createPruner(c: PrunerConfig | undefined): Pruner {
  switch (c?.type) {
    case undefined:
    case 'none':
      return new NopPruner();
    case 'median':
    case 'percentile':
      return new PercentilePruner(
        defined({
          percentile: c.type === 'median' ? 50 : c.percentile,
          startupTrials: c.startupTrials,
          warmupSteps: c.warmupSteps,
          intervalSteps: c.intervalSteps,
          minTrials: c.minTrials,
        }),
        c.type,
      );
    case 'successive-halving':
      return new SuccessiveHalvingPruner(
        defined({ minResource: c.minResource, reductionFactor: c.reductionFactor, minEarlyStoppingRate: c.minEarlyStoppingRate, bootstrapCount: c.bootstrapCount }),
      );
    case 'hyperband':
      return new HyperbandPruner(
        defined({
          minResource: c.minResource === 'auto' ? undefined : c.minResource,
          maxResource: c.maxResource,
          reductionFactor: c.reductionFactor,
          bootstrapCount: c.bootstrapCount,
        }),
      );
    default:
      throw new Error(`unknown pruner type "${(c as { type: string }).type}"`);
  }
}
