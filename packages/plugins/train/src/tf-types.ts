/** Type-only re-exports of tfjs classes (erased at build: nothing here loads TensorFlow.js). */
export type { LayersModel } from '@tensorflow/tfjs-layers';
export type { Optimizer, Tensor, Variable, Scalar } from '@tensorflow/tfjs-core';
export type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types.js';
