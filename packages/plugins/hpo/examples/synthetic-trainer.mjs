// An objective plugin for trying the hpo stage offline (configs/hpo-example.yaml). It behaves
// like a trainer as far as the hpo stage is concerned: per epoch it emits an `epoch` event with
// { epoch, metrics: { loss, val_loss } } and saves a checkpoint, it resumes from its last
// checkpoint (first replaying the epochs it holds, marked replay: true), it saves a cancellation checkpoint when cancelled (a pruned trial), and it returns
// { metrics: { val_loss } }. Its "validation loss" is a made-up function of lr, units and
// activation, best near lr = 3e-3, units = 96, activation = relu, and bad for lr > 0.05.
// Run as a stage that needs hpo, it trains with the study's bestParams, as the trainer does.
export default {
  name: 'synthetic-trainer',
  version: '1.0.0',
  description: 'A pretend trainer for the hpo example: a synthetic loss per epoch, with checkpoints',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      lr: { type: 'number', exclusiveMinimum: 0, default: 0.01, description: 'Learning rate.' },
      units: { type: 'integer', minimum: 1, default: 32, description: 'Hidden units.' },
      activation: { type: 'string', enum: ['relu', 'tanh'], default: 'relu', description: 'Activation.' },
      epochs: { type: 'integer', minimum: 1, default: 10, description: 'Epochs to train.' },
      epochMs: { type: 'number', minimum: 0, default: 20, description: 'Milliseconds an epoch takes.' },
    },
  },
  resumeSafe: ['epochMs'],
  async run(ctx) {
    const o = { ...ctx.options, ...(ctx.upstream.hpo?.result?.bestParams ?? {}) };
    const floor = (Math.log10(o.lr) + 2.5) ** 2 / 4 + ((o.units - 96) / 128) ** 2 + (o.activation === 'tanh' ? 0.05 : 0) + (o.lr > 0.05 ? 1 : 0);
    const saved = await ctx.checkpoint.load();
    let epoch = saved?.state.epoch ?? 0;
    let valLoss = saved?.state.valLoss ?? Infinity;
    // Resumed: report the restored epochs again, in case the study missed the last one.
    for (const [i, v] of (saved?.state.history ?? []).entries()) ctx.emit('epoch', { epoch: i + 1, metrics: { loss: v * 0.9, val_loss: v }, replay: true });
    const history = [...(saved?.state.history ?? [])];
    while (epoch < o.epochs) {
      if (ctx.signal.aborted) {
        await ctx.checkpoint.save({ epoch, valLoss, history }, { step: epoch, total: o.epochs, type: 'cancellation' });
        throw ctx.signal.reason;
      }
      await new Promise((r) => setTimeout(r, o.epochMs));
      epoch++;
      valLoss = floor + 0.5 / epoch;
      history.push(valLoss);
      ctx.emit('epoch', { epoch, metrics: { loss: valLoss * 0.9, val_loss: valLoss } });
      ctx.progress({ step: epoch, total: o.epochs, metrics: { val_loss: valLoss } });
      await ctx.checkpoint.save({ epoch, valLoss, history }, { step: epoch, total: o.epochs, metrics: { val_loss: valLoss } });
    }
    return { metrics: { val_loss: valLoss }, params: { lr: o.lr, units: o.units, activation: o.activation } };
  },
};
