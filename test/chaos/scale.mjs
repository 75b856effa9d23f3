// The quick start scaled down for the chaos suite (CI): the same stages and shape, less work.
export const CHAOS_SET = [
  '--set', 'stages.download.options.source.bars=2500',
  '--set', 'stages.hpo.options.trials=4',
  '--set', 'stages.hpo.options.objective.options.epochs=4',
  '--set', 'stages.train.options.epochs=6',
  '--set', 'stages.train.options.checkpointEvery=2',
  '--set', 'stages.backtest.options.checkpoint.everyBars=200',
];
