export { init, Simdnet } from './simdnet.js';
export type { ActivateOptions } from './activate.js';
export { Tensor } from './tensor.js';
export { DenseLayer, type DenseConfig } from './dense.js';
export { Sequential, type LayerSpec } from './sequential.js';
export type { AffineStep, LayerStep } from './steps.js';
export { SimdnetError, type ErrorCode } from './errors.js';
export {
  ACTIVATION_NAMES,
  PRESETS,
  PRESET_DEFAULTS,
  type ActivationName,
  type ActivationOptions,
  type ActivationSpec,
  type Preset,
} from './activations.js';
export { VARIANTS, bestVariant, supports, type InitOptions, type Variant } from './loader.js';
export { KERAS_MLP } from './models.js';
export type { SavedModel } from './io/format.js';
export type { TfjsArtifacts } from './io/tfjs.js';
export type { ModelSource } from './io/load.js';
export type { LoadModelOptions } from './io/read.js';
export { metrics, type Logs } from './train/metrics.js';
export type { CompileOptions, Targets } from './train/trainer.js';
export type { EvaluateOptions, FitCallbacks, FitOptions, History } from './train/fit.js';
export type { LayerDiagnostics } from './train/diagnostics.js';
export type { LossSpec } from './train/losses.js';
export type { OptimizerOptions, OptimizerSpec } from './train/optimizers.js';
