export { init, Simdnet, type ActivateOptions } from './runtime.js';
export { Tensor } from './tensor.js';
export { DenseLayer, type DenseConfig } from './dense.js';
export { Sequential, type LayerSpec } from './sequential.js';
export { SimdnetError, type ErrorCode } from './errors.js';
export { ACTIVATION_NAMES, PRESETS, PRESET_DEFAULTS, type ActivationName, type ActivationOptions, type ActivationSpec, type Preset } from './activations.js';
export { VARIANTS, bestVariant, supports, type InitOptions, type Variant } from './loader.js';
export { KERAS_MLP } from './models.js';
export type { SavedModel } from './format.js';
