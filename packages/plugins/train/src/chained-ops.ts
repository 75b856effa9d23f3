/**
 * Tensor methods such as x.flatten() or x.reshape(): tfjs-core registers them from ES modules
 * only, which its CommonJS build (what Node loads) does not include, and tfjs-layers calls a few
 * (the orthogonal initializer of lstm and gru does). The union package @tensorflow/tfjs bundles
 * them; with tfjs-core + tfjs-layers we register them here, with the same definitions.
 */
import type { TF } from './backend.js';

/** Methods that call the op of the same name with the tensor as first argument. */
const SAME_NAME = `
abs acos acosh add all any argMax argMin asin asinh atan atan2 atanh avgPool batchNorm
batchToSpaceND broadcastTo cast ceil clipByValue conv1d conv2d conv2dTranspose cos cosh cumprod
cumsum depthToSpace depthwiseConv2d dilation2d div divNoNan dot elu equal erf euclideanNorm exp
expandDims expm1 fft floor floorDiv gather greater greaterEqual ifft irfft isFinite isInf isNaN
leakyRelu less lessEqual localResponseNormalization log log1p logSigmoid logSoftmax logSumExp
logicalAnd logicalNot logicalOr logicalXor matMul max maxPool maximum mean min minimum mirrorPad
mod mul neg norm notEqual oneHot onesLike pad pool pow prelu prod reciprocal relu relu6 reshape
resizeBilinear resizeNearestNeighbor reverse rfft round rsqrt selu separableConv2d sigmoid sign sin
sinh slice softmax softplus spaceToBatchND split sqrt square squaredDifference squeeze step
stridedSlice sub sum tan tanh tile topk transpose unique unsortedSegmentSum unstack zerosLike`
  .trim()
  .split(/\s+/);

export function registerChainedOps(tf: TF): void {
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  if (typeof proto.flatten === 'function') return;
  const ops = tf as unknown as Record<string, (...args: unknown[]) => unknown>;
  type T = InstanceType<TF['Tensor']> & { throwIfDisposed(): void };
  const def = (name: string, fn: (this: T, ...args: any[]) => unknown) => {
    if (typeof proto[name] !== 'function') {
      proto[name] = function (this: T, ...args: unknown[]) {
        this.throwIfDisposed();
        return fn.apply(this, args);
      };
    }
  };
  for (const name of SAME_NAME) {
    const op = ops[name];
    if (typeof op === 'function') def(name, function (...args) { return op(this, ...args); });
  }
  const reshape = ops.reshape!;
  const cast = ops.cast!;
  def('flatten', function () { return reshape(this, [this.size]); });
  def('as1D', function () { return reshape(this, [this.size]); });
  def('as2D', function (r: number, c: number) { return reshape(this, [r, c]); });
  def('as3D', function (r: number, c: number, d: number) { return reshape(this, [r, c, d]); });
  def('as4D', function (r: number, c: number, d: number, d2: number) { return reshape(this, [r, c, d, d2]); });
  def('as5D', function (r: number, c: number, d: number, d2: number, d3: number) { return reshape(this, [r, c, d, d2, d3]); });
  def('asScalar', function () {
    if (this.size !== 1) throw new Error('The array must have only 1 element.');
    return reshape(this, []);
  });
  def('reshapeAs', function (x: { shape: number[] }) { return reshape(this, x.shape); });
  def('asType', function (dtype: string) { return cast(this, dtype); });
  def('toFloat', function () { return cast(this, 'float32'); });
  def('toInt', function () { return cast(this, 'int32'); });
  def('toBool', function () { return cast(this, 'bool'); });
  def('concat', function (x: unknown, axis?: number) { return ops.concat!([this, ...(x instanceof tf.Tensor ? [x] : (x as unknown[]))], axis); });
  def('stack', function (x: unknown, axis?: number) { return ops.stack!([this, ...(x instanceof tf.Tensor ? [x] : (x as unknown[]))], axis); });
  def('where', function (condition: unknown, x: unknown) { return ops.where!(condition, this, x); });
}
