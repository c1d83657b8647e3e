/** One-click set-ups of the training panel, each showing one thing about activations. */
import type { DatasetSpec } from './datasets.js';
import type { NetworkSpec, TrainingSpec } from './session.js';

export interface Preset {
  id: string;
  title: string;
  /** One sentence: what to watch. */
  note: string;
  data: Pick<DatasetSpec, 'name' | 'classes' | 'noise'>;
  network: NetworkSpec;
  training: TrainingSpec;
}

const layers = (count: number, units: number, activation: NetworkSpec['hidden'][number]['activation']) =>
  Array.from({ length: count }, () => ({ units, activation }));

export const PRESETS: readonly Preset[] = [
  {
    id: 'sigmoid-deep',
    title: 'Sigmoid deep net (vanishing gradients)',
    note:
      "σ′ is at most 0.25, so every sigmoid layer shrinks the gradient on its way back: the first layers' gradient norms " +
      "sit orders of magnitude below the last one's and the loss stays on its plateau for a long time.",
    data: { name: 'circles', classes: 2, noise: 0.1 },
    network: { hidden: layers(6, 6, 'sigmoid'), output: 'sigmoid' },
    training: { optimizer: 'sgd', learningRate: 0.1, batchSize: 16 },
  },
  {
    id: 'relu-dying',
    title: 'ReLU with a too-high learning rate (dying units)',
    note:
      "Large steps push many ReLU units' biases so far negative that they output 0 on every point; a dead unit gets no " +
      'gradient and never comes back (greyed in the diagram).',
    data: { name: 'moons', classes: 2, noise: 0.1 },
    network: { hidden: layers(3, 8, 'relu'), output: 'sigmoid' },
    training: { optimizer: 'sgd', learningRate: 3, batchSize: 8 },
  },
  {
    id: 'leaky-rescue',
    title: 'Leaky ReLU rescue',
    note:
      'The same network with leaky ReLU (at learning rate 1: 3 makes any of them diverge): a negative input keeps ' +
      'slope 0.2, so no unit loses its gradient for good, and the moons separate.',
    data: { name: 'moons', classes: 2, noise: 0.1 },
    network: { hidden: layers(3, 8, 'leaky_relu'), output: 'sigmoid' },
    training: { optimizer: 'sgd', learningRate: 1, batchSize: 8 },
  },
  {
    id: 'softmax-3',
    title: 'Softmax output on 3 classes',
    note:
      'Softmax turns the three output scores into probabilities that sum to 1; the map blends the class colours by them, ' +
      'so it fades where the network is unsure.',
    data: { name: 'blobs', classes: 3, noise: 0.25 },
    network: { hidden: layers(2, 8, 'relu'), output: 'softmax' },
    training: { optimizer: 'adam', learningRate: 0.03, batchSize: 16 },
  },
];
