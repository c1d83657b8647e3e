import type { LayerSpec } from './sequential.js';

/** The Keras model of the project's seed document: 64 → 128 relu → 64 relu → 1 sigmoid. */
export const KERAS_MLP: readonly LayerSpec[] = [
  { inputDim: 64, units: 128, activation: 'relu' },
  { units: 64, activation: 'relu' },
  { units: 1, activation: 'sigmoid' },
];
