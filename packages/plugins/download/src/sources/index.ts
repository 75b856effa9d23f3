import type { SourceOptions } from '../schema.js';
import { binanceSource } from './binance.js';
import { httpCsvSource, stooqSource } from './csv-sources.js';
import { fileSource } from './file.js';
import { fredSource } from './fred.js';
import { syntheticSource } from './synthetic.js';
import type { SourceDriver } from './types.js';

export type { SourceDriver, Fetched } from './types.js';

/** Builds the driver for the configured source; bad dates and templates fail here, before any request. */
export function createSource(o: SourceOptions): SourceDriver {
  switch (o.type) {
    case 'synthetic':
      return syntheticSource(o);
    case 'file':
      return fileSource(o);
    case 'http-csv':
      return httpCsvSource(o);
    case 'fred':
      return fredSource(o);
    case 'binance-klines':
      return binanceSource(o);
    case 'stooq':
      return stooqSource(o);
  }
}
