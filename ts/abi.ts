// The wasm module's whole interface: crate/src/abi.rs, mirrored here in the same order (its exports,
// the codes they take, and one writer per #[repr(C)] struct, with the struct's size and field offsets).
// No other file holds an offset or a struct size; test/abi.test.ts compares the sizes and offsets with
// the crate's compile-time assertions.

export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  readonly __heap_base: WebAssembly.Global;
  /** 2 relaxed SIMD, 1 SIMD128, 0 scalar. */
  simdnet_build(): number;
  simdnet_activate(code: number, p0: number, p1: number, p2: number, x: number, n: number, y: number): number;
  simdnet_activate_backward(code: number, p0: number, p1: number, p2: number, x: number, dy: number, n: number, dx: number): number;
  simdnet_rowwise(code: number, x: number, rows: number, cols: number, y: number, scratch: number): number;
  simdnet_rowwise_scratch_len(code: number, cols: number): number;
  simdnet_rowwise_backward(code: number, x: number, dy: number, rows: number, cols: number, dx: number, scratch: number): number;
  simdnet_prelu(x: number, rows: number, cols: number, slope: number, y: number): void;
  simdnet_prelu_backward(x: number, dy: number, rows: number, cols: number, slope: number, dx: number): void;
  simdnet_dense_packed_len(inputs: number, outputs: number): number;
  simdnet_dense_pack(kernel: number, bias: number, inputs: number, outputs: number, transposed: number, packed: number): void;
  simdnet_dense_unpack(packed: number, inputs: number, outputs: number, kernel: number, bias: number): void;
  simdnet_dense_scratch_len(batch: number, inputs: number, outputs: number, act: number): number;
  simdnet_dense(
    x: number,
    batch: number,
    inputs: number,
    outputs: number,
    packed: number,
    act: number,
    p0: number,
    p1: number,
    p2: number,
    slopes: number,
    y: number,
    scratch: number,
  ): number;
  simdnet_qdense_packed_len(inputs: number, outputs: number): number;
  simdnet_qdense_pack(
    codes: number,
    scales: number,
    bias: number,
    inputs: number,
    outputs: number,
    transposed: number,
    packed: number,
  ): void;
  simdnet_qdense_unpack(packed: number, inputs: number, outputs: number, codes: number, scales: number, bias: number): void;
  simdnet_qdense_scratch_len(batch: number, inputs: number, outputs: number, act: number): number;
  simdnet_qdense(
    x: number,
    batch: number,
    inputs: number,
    outputs: number,
    packed: number,
    act: number,
    p0: number,
    p1: number,
    p2: number,
    slopes: number,
    y: number,
    scratch: number,
  ): number;
  simdnet_model_forward(
    table: number,
    layers: number,
    x: number,
    batch: number,
    hiddenA: number,
    hiddenB: number,
    y: number,
    scratch: number,
  ): number;
  simdnet_train_scratch_len(table: number, layers: number, batch: number): number;
  simdnet_train_step(step: number): number;
}

/** What the threaded builds export besides: they import their shared memory (`env.memory`). */
export interface PoolExports {
  /** Each instance's stack top: every thread needs its own stack. */
  readonly __stack_pointer: WebAssembly.Global;
  /** Runs the `PoolJob` at `job` as thread `thread` (0: the caller); thread 0's answer is `simdnet_model_forward`'s. */
  simdnet_pool_run(job: number, thread: number): number;
}

/** The functions only the threaded builds export (`#[cfg(simdnet_threads)]` in abi.rs), after the others. */
export const POOL_FUNCTIONS: readonly (keyof PoolExports)[] = ['simdnet_pool_run'];

/** The initial size of the threaded builds' memory, in 64 KiB pages: the `--initial-memory` scripts/build-wasm.mjs links with. */
export const THREADED_INITIAL_PAGES = 16;

type KernelFunction = Exclude<keyof KernelExports, 'memory' | '__heap_base'>;

/** Every function of `KernelExports` once: a missing or extra key does not compile. */
const KERNEL_FUNCTION_SET: Record<KernelFunction, true> = {
  simdnet_build: true,
  simdnet_activate: true,
  simdnet_activate_backward: true,
  simdnet_rowwise: true,
  simdnet_rowwise_scratch_len: true,
  simdnet_rowwise_backward: true,
  simdnet_prelu: true,
  simdnet_prelu_backward: true,
  simdnet_dense_packed_len: true,
  simdnet_dense_pack: true,
  simdnet_dense_unpack: true,
  simdnet_dense_scratch_len: true,
  simdnet_dense: true,
  simdnet_qdense_packed_len: true,
  simdnet_qdense_pack: true,
  simdnet_qdense_unpack: true,
  simdnet_qdense_scratch_len: true,
  simdnet_qdense: true,
  simdnet_model_forward: true,
  simdnet_train_scratch_len: true,
  simdnet_train_step: true,
};

/** The functions a module must export to be simdnet's (the loader checks them). */
export const KERNEL_FUNCTIONS = Object.keys(KERNEL_FUNCTION_SET) as readonly KernelFunction[];

/** Elementwise activation codes (`code`). */
export const ActivationCode = {
  linear: 0,
  relu: 1,
  leaky_relu: 2,
  sigmoid: 3,
  tanh: 4,
  relu_general: 5,
  relu6: 6,
  elu: 7,
  exponential: 8,
  gelu: 9,
  gelu_tanh: 10,
  hard_sigmoid: 11,
  hard_silu: 12,
  hard_tanh: 13,
  hard_shrink: 14,
  soft_shrink: 15,
  log_sigmoid: 16,
  mish: 17,
  swish: 18,
  softplus: 19,
  softsign: 20,
  sparse_plus: 21,
  sparse_sigmoid: 22,
  squareplus: 23,
  tanh_shrink: 24,
  threshold: 25,
} as const;

/** Row-wise activation codes. */
export const RowwiseCode = {
  softmax: 64,
  log_softmax: 65,
  softmin: 66,
  sparsemax: 67,
  glu: 68,
  /** Slopes per position of the last axis, by pointer: simdnet_prelu, or simdnet_dense's `slopes`. */
  prelu: 69,
} as const;

/** `ModelStep.code` of a per-unit affine step (`AFFINE`): outside the activation codes. */
export const AFFINE_CODE = 256;

/** `LossDesc.code` (`loss_code`). */
export const LossCode = {
  mean_squared_error: 0,
  mean_absolute_error: 1,
  huber: 2,
  binary_crossentropy: 3,
  categorical_crossentropy: 4,
} as const;

/** `OptimizerDesc.kind` (`optimizer_kind`). */
export const OptimizerKind = { sgd: 0, adam: 1, rmsprop: 2 } as const;

/** Bits of `OptimizerDesc.flags` (`optimizer_flag`). */
export const OptimizerFlag = { nesterov: 1, amsgrad: 2, centered: 4 } as const;

/** `TrainStep.mode` (`step_mode`): forward and loss; also the gradients (any other mode); also the update. */
export const StepMode = { loss: 0, gradients: 1, update: 2 } as const;

/** What a `*_len` function answers for a size that does not fit in wasm32 (`TOO_LARGE`, usize::MAX). */
export const TOO_LARGE = 0xffffffff;

/** A view of the `bytes` bytes at byte address `at`, which the writers fill little-endian. */
const structView = (memory: WebAssembly.Memory, at: number, bytes: number) => new DataView(memory.buffer, at, bytes);

/** A dense layer as the kernels see it (`LayerDesc`; also embedded in `ModelLayer` and `TrainLayer`). */
export interface LayerDesc {
  /** Byte address of the packed weights. */
  packed: number;
  inputs: number;
  outputs: number;
  /** Activation code. */
  activation: number;
  params: readonly [number, number, number];
  /** Byte address of prelu's slopes, or 0. */
  slopes: number;
}

export const LAYER_DESC_BYTES = 32;
export const LAYER_DESC_OFFSETS = { packed: 0, inputs: 4, outputs: 8, activation: 12, params: 16, slopes: 28 } as const;

export function writeLayerDesc(memory: WebAssembly.Memory, at: number, desc: LayerDesc): void {
  const view = structView(memory, at, LAYER_DESC_BYTES);
  const o = LAYER_DESC_OFFSETS;
  view.setUint32(o.packed, desc.packed, true);
  view.setUint32(o.inputs, desc.inputs, true);
  view.setUint32(o.outputs, desc.outputs, true);
  view.setUint32(o.activation, desc.activation, true);
  desc.params.forEach((p, j) => view.setFloat32(o.params + 4 * j, p, true));
  view.setUint32(o.slopes, desc.slopes, true);
}

/** A step after a layer's activation (`ModelStep`). */
export interface ModelStep {
  /** An activation code, or AFFINE_CODE. */
  code: number;
  params: readonly [number, number, number];
  /** Byte address of the affine step's scales then shifts, or of prelu's slopes; 0 for the others. */
  values: number;
}

export const MODEL_STEP_BYTES = 20;
export const MODEL_STEP_OFFSETS = { code: 0, params: 4, values: 16 } as const;

export function writeModelStep(memory: WebAssembly.Memory, at: number, step: ModelStep): void {
  const view = structView(memory, at, MODEL_STEP_BYTES);
  const o = MODEL_STEP_OFFSETS;
  view.setUint32(o.code, step.code, true);
  step.params.forEach((p, j) => view.setFloat32(o.params + 4 * j, p, true));
  view.setUint32(o.values, step.values, true);
}

/** `ModelLayer.weights` (`weight_format`): how a layer's packed weights are stored. */
export const WeightFormat = { f32: 0, int8: 1 } as const;

/** An entry of the table `simdnet_model_forward` walks (`ModelLayer`): a `LayerDesc`, its steps' address and count, its WeightFormat. */
export const MODEL_LAYER_BYTES = 44;
export const MODEL_LAYER_OFFSETS = { desc: 0, steps: 32, stepCount: 36, weights: 40 } as const;

export function writeModelLayer(
  memory: WebAssembly.Memory,
  at: number,
  desc: LayerDesc,
  steps: number,
  stepCount: number,
  weights: number,
): void {
  const view = structView(memory, at, MODEL_LAYER_BYTES);
  const o = MODEL_LAYER_OFFSETS;
  writeLayerDesc(memory, at + o.desc, desc);
  view.setUint32(o.steps, steps, true);
  view.setUint32(o.stepCount, stepCount, true);
  view.setUint32(o.weights, weights, true);
}

/** The job the threads of a pool share (`PoolJob`): the counters they synchronise on, then `simdnet_model_forward`'s arguments. */
export interface PoolJob {
  /** A PoolJobKind. */
  kind: number;
  table: number;
  layers: number;
  x: number;
  batch: number;
  hiddenA: number;
  hiddenB: number;
  y: number;
  scratch: number;
}

/** `PoolJob.kind` (`job_kind`): a model's forward pass (a dense layer's: a one-layer table), an elementwise or row-wise activation. */
export const PoolJobKind = { model: 0, activate: 1, rowwise: 2 } as const;
/** `simdnet_pool_run`'s answer on thread 0 when the other threads stopped making progress (`STALLED`). */
export const STALLED = 0xfffffffe;

export const POOL_JOB_BYTES = 104;
export const POOL_JOB_OFFSETS = {
  generation: 0,
  threads: 4,
  nextTile: 8,
  arrived: 12,
  base: 16,
  status: 20,
  kind: 24,
  table: 28,
  layers: 32,
  x: 36,
  batch: 40,
  hiddenA: 44,
  hiddenB: 48,
  y: 52,
  scratch: 56,
  layer: 60,
} as const;

/** Writes the arguments of the job at `at` (the counters belong to the pool, which sets them with Atomics). */
export function writePoolJob(memory: WebAssembly.Memory, at: number, job: PoolJob): void {
  const view = structView(memory, at, POOL_JOB_BYTES);
  const o = POOL_JOB_OFFSETS;
  for (const field of ['kind', 'table', 'layers', 'x', 'batch', 'hiddenA', 'hiddenB', 'y', 'scratch'] as const) {
    view.setUint32(o[field], job[field], true);
  }
}

/** A layer of the training table (`TrainLayer`): its `LayerDesc`, then the byte addresses of its training buffers. */
export interface TrainLayer {
  desc: LayerDesc;
  /** Pre-activation and activation, `batch × outputs` floats each (the same buffer for a linear layer). */
  z: number;
  a: number;
  /** The gradient of the packed weights (for prelu followed by its slopes' gradient and a working copy of them). */
  grad: number;
  /** The optimizer's three state arrays, 0 where unused. */
  state: readonly [number, number, number];
}

export const TRAIN_LAYER_BYTES = 56;
export const TRAIN_LAYER_OFFSETS = { desc: 0, z: 32, a: 36, grad: 40, state: 44 } as const;

export function writeTrainLayer(memory: WebAssembly.Memory, at: number, layer: TrainLayer): void {
  const view = structView(memory, at, TRAIN_LAYER_BYTES);
  const o = TRAIN_LAYER_OFFSETS;
  writeLayerDesc(memory, at + o.desc, layer.desc);
  view.setUint32(o.z, layer.z, true);
  view.setUint32(o.a, layer.a, true);
  view.setUint32(o.grad, layer.grad, true);
  layer.state.forEach((p, j) => view.setUint32(o.state + 4 * j, p, true));
}

/** The loss of a step (`LossDesc`); the step writes the batch's mean loss back into `value` (`readTrainStepLoss`). */
export interface LossDesc {
  /** A LossCode. */
  code: number;
  /** The outputs are logits (cross-entropies only). */
  fromLogits: boolean;
  /** huber's delta. */
  delta: number;
}

export const LOSS_DESC_BYTES = 16;
export const LOSS_DESC_OFFSETS = { code: 0, fromLogits: 4, delta: 8, value: 12 } as const;

function writeLossDesc(memory: WebAssembly.Memory, at: number, loss: LossDesc): void {
  const view = structView(memory, at, LOSS_DESC_BYTES);
  const o = LOSS_DESC_OFFSETS;
  view.setUint32(o.code, loss.code, true);
  view.setUint32(o.fromLogits, loss.fromLogits ? 1 : 0, true);
  view.setFloat32(o.delta, loss.delta, true);
}

/** An optimizer and this step's hyperparameters (`OptimizerDesc`); options that are off are 0. */
export interface OptimizerDesc {
  /** An OptimizerKind. */
  kind: number;
  /** OptimizerFlag bits. */
  flags: number;
  learningRate: number;
  /** adam: β1; sgd: momentum; rmsprop: ρ. */
  beta1: number;
  /** adam: β2; rmsprop: momentum. */
  beta2: number;
  epsilon: number;
  /** adam: this step's lr·√(1 − β2ᵗ)/(1 − β1ᵗ). */
  stepSize: number;
  weightDecay: number;
  clipnorm: number;
  globalClipnorm: number;
  clipvalue: number;
}

export const OPTIMIZER_DESC_BYTES = 44;
export const OPTIMIZER_DESC_OFFSETS = {
  kind: 0,
  flags: 4,
  learningRate: 8,
  beta1: 12,
  beta2: 16,
  epsilon: 20,
  stepSize: 24,
  weightDecay: 28,
  clipnorm: 32,
  globalClipnorm: 36,
  clipvalue: 40,
} as const;

function writeOptimizerDesc(memory: WebAssembly.Memory, at: number, optimizer: OptimizerDesc): void {
  const view = structView(memory, at, OPTIMIZER_DESC_BYTES);
  view.setUint32(OPTIMIZER_DESC_OFFSETS.kind, optimizer.kind, true);
  view.setUint32(OPTIMIZER_DESC_OFFSETS.flags, optimizer.flags, true);
  for (const [field, offset] of OPTIMIZER_FLOAT_FIELDS) view.setFloat32(offset, optimizer[field], true);
}

// The fields written by a loop, listed once: the writers run on every training step, where an
// object rest and Object.entries per call made garbage.
const { kind: _kind, flags: _flags, ...OPTIMIZER_FLOATS } = OPTIMIZER_DESC_OFFSETS;
const OPTIMIZER_FLOAT_FIELDS = Object.entries(OPTIMIZER_FLOATS) as [keyof typeof OPTIMIZER_FLOATS, number][];

/** What `simdnet_train_step` runs (`TrainStep`): byte addresses of its table and buffers, its mode, loss and optimizer. */
export interface TrainStep {
  layers: number;
  count: number;
  /** `batch × inputs` inputs and `batch × outputs` targets (one-hot for sparse labels). */
  x: number;
  targets: number;
  batch: number;
  /** Two buffers of `batch × widest layer` floats for the gradients flowing between layers. */
  gradientA: number;
  gradientB: number;
  scratch: number;
  /** A StepMode. */
  mode: number;
  loss: LossDesc;
  optimizer: OptimizerDesc;
}

export const TRAIN_STEP_BYTES = 96;
export const TRAIN_STEP_OFFSETS = {
  layers: 0,
  count: 4,
  x: 8,
  targets: 12,
  batch: 16,
  gradientA: 20,
  gradientB: 24,
  scratch: 28,
  mode: 32,
  loss: 36,
  optimizer: 52,
} as const;

export function writeTrainStep(memory: WebAssembly.Memory, at: number, step: TrainStep): void {
  const view = structView(memory, at, TRAIN_STEP_BYTES);
  for (const [field, offset] of TRAIN_STEP_WORD_FIELDS) view.setUint32(offset, step[field], true);
  writeLossDesc(memory, at + TRAIN_STEP_OFFSETS.loss, step.loss);
  writeOptimizerDesc(memory, at + TRAIN_STEP_OFFSETS.optimizer, step.optimizer);
}

const { loss: _loss, optimizer: _optimizer, ...TRAIN_STEP_WORDS } = TRAIN_STEP_OFFSETS;
const TRAIN_STEP_WORD_FIELDS = Object.entries(TRAIN_STEP_WORDS) as [keyof typeof TRAIN_STEP_WORDS, number][];

/** The batch's mean loss, which `simdnet_train_step` wrote into the `TrainStep` at `at`. */
export function readTrainStepLoss(memory: WebAssembly.Memory, at: number): number {
  return structView(memory, at, TRAIN_STEP_BYTES).getFloat32(TRAIN_STEP_OFFSETS.loss + LOSS_DESC_OFFSETS.value, true);
}
