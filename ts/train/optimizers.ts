import { type OptimizerDesc, OptimizerFlag, OptimizerKind } from '../abi.js';
import { fail } from '../errors.js';

export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'rmsprop';

/** An optimizer as `compile()` takes it: a name (Keras 3 defaults) or `{ name, ...options }`. */
export type OptimizerSpec = OptimizerName | ({ name: OptimizerName } & OptimizerOptions);

/** Keras 3's options, in camelCase (TF.js spellings `beta1`, `beta2` accepted too). */
export interface OptimizerOptions {
  learningRate?: number;
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  amsgrad?: boolean;
  rho?: number;
  centered?: boolean;
  weightDecay?: number;
  clipnorm?: number;
  globalClipnorm?: number;
  clipvalue?: number;
}

/** A validated optimizer: every option with its value (defaults filled in). */
export interface ResolvedOptimizer extends Required<OptimizerOptions> {
  readonly name: OptimizerName;
}

/** Keras 3 defaults per optimizer (adamw's weight decay 0.004; the others none). */
const DEFAULTS: Record<OptimizerName, Required<OptimizerOptions>> = (() => {
  const common = {
    momentum: 0,
    nesterov: false,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    amsgrad: false,
    rho: 0.9,
    centered: false,
    weightDecay: 0,
    clipnorm: 0,
    globalClipnorm: 0,
    clipvalue: 0,
  };
  return {
    sgd: { ...common, learningRate: 0.01 },
    adam: { ...common, learningRate: 0.001 },
    adamw: { ...common, learningRate: 0.001, weightDecay: 0.004 },
    rmsprop: { ...common, learningRate: 0.001 },
  };
})();

/** TF.js/Keras snake_case spellings of the options. */
const OPTION_ALIASES: Record<string, keyof OptimizerOptions> = {
  learning_rate: 'learningRate',
  lr: 'learningRate',
  beta_1: 'beta1',
  beta_2: 'beta2',
  weight_decay: 'weightDecay',
  global_clipnorm: 'globalClipnorm',
};

const BOOLEANS = new Set(['nesterov', 'amsgrad', 'centered']);

export function resolveOptimizer(spec: unknown): ResolvedOptimizer {
  const { name: given, ...raw } = (typeof spec === 'object' && spec !== null ? spec : { name: spec }) as { name: unknown } & Record<
    string,
    unknown
  >;
  if (typeof given !== 'string' || !Object.hasOwn(DEFAULTS, given.toLowerCase())) {
    fail('INVALID_ARGUMENT', `unknown optimizer ${JSON.stringify(given)}; known: ${Object.keys(DEFAULTS).join(', ')}`);
  }
  const name = given.toLowerCase() as OptimizerName;
  const resolved: Record<string, number | boolean> = { ...DEFAULTS[name] };
  for (const [key, value] of Object.entries(raw)) {
    const option = OPTION_ALIASES[key] ?? key;
    if (!Object.hasOwn(resolved, option)) fail('INVALID_ARGUMENT', `unknown ${name} option ${key}`);
    if (BOOLEANS.has(option) ? typeof value !== 'boolean' : typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      fail(
        'INVALID_ARGUMENT',
        `${name} ${key} must be ${BOOLEANS.has(option) ? 'a boolean' : 'a finite number ≥ 0'}, got ${String(value)}`,
      );
    }
    resolved[option] = value as number | boolean;
  }
  const r = { name, ...resolved } as ResolvedOptimizer;
  if (r.learningRate <= 0) fail('INVALID_ARGUMENT', `${name} learningRate must be > 0, got ${r.learningRate}`);
  for (const key of ['beta1', 'beta2', 'rho', 'momentum'] as const) {
    if (r[key] >= 1) fail('INVALID_ARGUMENT', `${name} ${key} must be < 1, got ${r[key]}`);
  }
  if ([r.clipnorm, r.globalClipnorm, r.clipvalue].filter((c) => c > 0).length > 1) {
    fail('INVALID_ARGUMENT', 'only one of clipnorm, globalClipnorm and clipvalue can be set (as in Keras)');
  }
  return r;
}

/**
 * The kernel's state slots (each an array the size of the packed weights) the optimizer uses:
 * sgd its momentum; adam m, v and (amsgrad) v̂; rmsprop its velocity, momentum and mean gradient,
 * the last two only when enabled.
 */
export function stateSlots(opt: ResolvedOptimizer): number[] {
  switch (opt.name) {
    case 'sgd':
      return opt.momentum > 0 ? [0] : [];
    case 'adam':
    case 'adamw':
      return opt.amsgrad ? [0, 1, 2] : [0, 1];
    case 'rmsprop':
      return [0, ...(opt.momentum > 0 ? [1] : []), ...(opt.centered ? [2] : [])];
  }
}

/** The optimizer block of the step descriptor for step `t`, counted from 1. */
export function optimizerDesc(opt: ResolvedOptimizer, t: number): OptimizerDesc {
  const adam = opt.name === 'adam' || opt.name === 'adamw';
  const kind = adam ? OptimizerKind.adam : OptimizerKind[opt.name as 'sgd' | 'rmsprop'];
  const { nesterov, amsgrad, centered } = OptimizerFlag;
  const flags = (opt.nesterov ? nesterov : 0) | (opt.amsgrad ? amsgrad : 0) | (opt.centered ? centered : 0);
  // Keras: α = lr·√(1 − β2ᵗ)/(1 − β1ᵗ), in float32 (here in double, then rounded once).
  const stepSize = adam ? (opt.learningRate * Math.sqrt(1 - opt.beta2 ** t)) / (1 - opt.beta1 ** t) : 0;
  const [beta1, beta2] = adam ? [opt.beta1, opt.beta2] : opt.name === 'sgd' ? [opt.momentum, 0] : [opt.rho, opt.momentum];
  const { learningRate, epsilon, weightDecay, clipnorm, globalClipnorm, clipvalue } = opt;
  return { kind, flags, learningRate, beta1, beta2, epsilon, stepSize, weightDecay, clipnorm, globalClipnorm, clipvalue };
}
