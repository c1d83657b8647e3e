/** The 2-D data sets the training panel generates: seeded, so that a seed gives the same points every time. */
import { seededRandom } from '../../dist/ts/random.js';

export type DatasetName = 'moons' | 'circles' | 'xor' | 'spirals' | 'blobs';

export interface DatasetSpec {
  name: DatasetName;
  /** Points in all (train and test). */
  samples: number;
  /** The standard deviation of the Gaussian noise added to each coordinate (blobs: added to their spread). */
  noise: number;
  /** Classes: 2, or 3 for spirals and blobs (the others are binary by nature). */
  classes: number;
  /** The fraction of the points that train; the rest test. */
  trainFraction: number;
  seed: number;
}

/** Points as the model takes them: `n × 2` coordinates and a class per point. */
export interface Points {
  x: Float32Array;
  labels: Int32Array;
  n: number;
}

export interface Split {
  train: Points;
  test: Points;
  classes: number;
}

/** The square every data set lies in (and the decision boundary is drawn over). */
export const DOMAIN = 2;

export const DATASETS: Record<DatasetName, { title: string; classes: readonly number[] }> = {
  moons: { title: 'Two moons', classes: [2] },
  circles: { title: 'Circles', classes: [2] },
  xor: { title: 'XOR', classes: [2] },
  spirals: { title: 'Spirals', classes: [2, 3] },
  blobs: { title: 'Gaussian blobs', classes: [2, 3] },
};

type Random = () => number;

/** A standard normal sample (Box–Muller). */
function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** One clean point of class `label` (before noise), its parameter drawn from `random`. */
const GENERATORS: Record<DatasetName, (label: number, classes: number, random: Random) => [number, number]> = {
  // scikit-learn's make_moons, centred: the upper moon, and the lower one shifted right and down.
  moons: (label, _, random) => {
    const t = Math.PI * random();
    return label === 0 ? [Math.cos(t) - 0.5, Math.sin(t) - 0.25] : [0.5 - Math.cos(t), 0.25 - Math.sin(t)];
  },
  // A disc (class 1) inside a ring (class 0).
  circles: (label, _, random) => {
    const angle = 2 * Math.PI * random();
    const r = label === 1 ? 0.7 * Math.sqrt(random()) : 1.1 + 0.5 * random();
    return [r * Math.cos(angle), r * Math.sin(angle)];
  },
  // The quadrants: class 1 where x and y have the same sign; kept 0.1 off the axes, which only the noise crosses.
  xor: (label, _, random) => {
    const x = (random() < 0.5 ? -1 : 1) * (0.1 + 1.6 * random());
    return [x, (label === 1 ? 1 : -1) * Math.sign(x) * (0.1 + 1.6 * random())];
  },
  // Archimedean arms, one per class, turned by a whole turn and three quarters.
  spirals: (label, classes, random) => {
    const t = random();
    const angle = 3.5 * Math.PI * t + (2 * Math.PI * label) / classes;
    return [1.8 * t * Math.cos(angle), 1.8 * t * Math.sin(angle)];
  },
  // Gaussians centred on a circle; their spread is the noise plus a base 0.3.
  blobs: (label, classes, random) => {
    const angle = (2 * Math.PI * label) / classes + Math.PI / 2;
    return [1.1 * Math.cos(angle) + 0.3 * gaussian(random), 1.1 * Math.sin(angle) + 0.3 * gaussian(random)];
  },
};

function take(all: Points, from: number, to: number): Points {
  return { x: all.x.slice(2 * from, 2 * to), labels: all.labels.slice(from, to), n: to - from };
}

/**
 * The points of `spec`, classes in equal shares, shuffled, then split: the first `trainFraction` train.
 * Coordinates are clamped to the drawn square.
 */
export function generate(spec: DatasetSpec): Split {
  const classes = DATASETS[spec.name].classes.includes(spec.classes) ? spec.classes : 2;
  const random = seededRandom(spec.seed);
  const n = spec.samples;
  const all: Points = { x: new Float32Array(2 * n), labels: new Int32Array(n), n };
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  order.forEach((at, i) => {
    const label = i % classes;
    const [x, y] = GENERATORS[spec.name](label, classes, random);
    const clamp = (v: number) => Math.max(-DOMAIN, Math.min(DOMAIN, v));
    all.x[2 * at] = clamp(x + spec.noise * gaussian(random));
    all.x[2 * at + 1] = clamp(y + spec.noise * gaussian(random));
    all.labels[at] = label;
  });
  const cut = Math.max(1, Math.min(n - 1, Math.round(n * spec.trainFraction)));
  return { train: take(all, 0, cut), test: take(all, cut, n), classes };
}
