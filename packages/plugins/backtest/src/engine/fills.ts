import { slipped } from './costs.js';
import type { Bar, Order, Side } from './types.js';

/** The price `o` fills at on `bar`, or NaN when it does not fill there. */
export function fillPrice(o: Order, bar: Bar, bps: number): number {
  const slip = { bps };
  const side: Side = o.side;
  switch (o.type) {
    case 'market':
      return slipped(bar.open, side, slip);
    case 'limit':
      if (side === 'buy') return bar.open <= o.price ? bar.open : bar.low <= o.price ? o.price : NaN;
      return bar.open >= o.price ? bar.open : bar.high >= o.price ? o.price : NaN;
    case 'stop':
      if (side === 'buy') return bar.open >= o.price ? slipped(bar.open, side, slip) : bar.high >= o.price ? slipped(o.price, side, slip) : NaN;
      return bar.open <= o.price ? slipped(bar.open, side, slip) : bar.low <= o.price ? slipped(o.price, side, slip) : NaN;
  }
}
