/**
 * Model files in the TF.js layers format (model.json + weights.bin, as tf.io's file handlers
 * write them), the normaliser and the training history, all written atomically. Byte-identical
 * weights give byte-identical files, so their sha256 identifies a model.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '@runner/core';
import type { TF } from './backend.js';
import type { LayersModel } from './tf-types.js';

export interface SavedModel {
  dir: string;
  /** sha256 of weights.bin. */
  sha256: string;
  bytes: number;
}

export async function saveModel(tf: TF, model: LayersModel, dir: string): Promise<SavedModel> {
  let out: SavedModel | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const weights = new Uint8Array(data === undefined ? new ArrayBuffer(0) : Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data);
      // Weights first: a model.json on disk always points at complete weights.
      const w = await writeFileAtomic(join(dir, 'weights.bin'), weights);
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(modelJson));
      out = { dir, sha256: w.sha256, bytes: w.size };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
  return out!;
}

/** history.json ({ epoch: [...], loss: [...], ... }) and history.csv (one row per epoch). */
export async function saveHistory(dir: string, history: Record<string, number[]>): Promise<{ json: string; csv: string }> {
  const json = join(dir, 'history.json');
  const csv = join(dir, 'history.csv');
  const keys = Object.keys(history);
  const rows = history.epoch?.length ?? 0;
  const lines = [keys.join(',')];
  for (let i = 0; i < rows; i++) lines.push(keys.map((k) => String(history[k]![i] ?? '')).join(','));
  await writeFileAtomic(json, JSON.stringify(history));
  await writeFileAtomic(csv, lines.join('\n') + '\n');
  return { json, csv };
}
