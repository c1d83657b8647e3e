// The wasm module's exported interface; mirrors crate/src (activation codes, LayerDesc layout).

export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  readonly __heap_base: WebAssembly.Global;
  /** 2 relaxed SIMD, 1 SIMD128, 0 scalar. */
  simdnet_build(): number;
  simdnet_activate(code: number, p0: number, p1: number, p2: number, x: number, n: number, y: number): number;
  simdnet_activate_backward(code: number, p0: number, p1: number, p2: number, x: number, dy: number, n: number, dx: number): number;
  simdnet_rowwise_backward(code: number, x: number, dy: number, rows: number, cols: number, dx: number, scratch: number): number;
  simdnet_prelu(x: number, rows: number, cols: number, slope: number, y: number): void;
  simdnet_prelu_backward(x: number, dy: number, rows: number, cols: number, slope: number, dx: number): void;
  simdnet_rowwise(code: number, x: number, rows: number, cols: number, y: number, scratch: number): number;
  simdnet_rowwise_scratch_len(code: number, cols: number): number;
  simdnet_dense_packed_len(inputs: number, outputs: number): number;
  simdnet_dense_pack(kernel: number, bias: number, inputs: number, outputs: number, transposed: number, packed: number): void;
  simdnet_dense_unpack(packed: number, inputs: number, outputs: number, kernel: number, bias: number): void;
  simdnet_dense_scratch_len(batch: number, inputs: number, outputs: number, act: number): number;
  simdnet_dense(
    x: number, batch: number, inputs: number, outputs: number, packed: number,
    act: number, p0: number, p1: number, p2: number, slopes: number, y: number, scratch: number,
  ): number;
  simdnet_model_forward(table: number, layers: number, x: number, batch: number, hiddenA: number, hiddenB: number, y: number, scratch: number): number;
  /** Training (crate/src/train/ffi.rs; table and step layouts: ts/train/trainer.ts). */
  simdnet_train_scratch_len(table: number, layers: number, batch: number): number;
  simdnet_train_step(step: number): number;
}

/** Elementwise activation codes of crate/src/activation/mod.rs (`code`). */
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

/** A dense layer as the kernels see it: crate/src/model.rs `LayerDesc` (also embedded in training's table). */
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

/** Byte offsets of `LayerDesc`'s fields: `#[repr(C)]`, eight little-endian 32-bit words (the crate asserts the size). */
const LAYER_DESC_OFFSETS = { packed: 0, inputs: 4, outputs: 8, activation: 12, params: 16, slopes: 28 } as const;
export const LAYER_DESC_BYTES = 32;

/** Writes `desc` at byte address `at` of `memory`. */
export function writeLayerDesc(memory: WebAssembly.Memory, at: number, desc: LayerDesc): void {
  const view = new DataView(memory.buffer, at, LAYER_DESC_BYTES);
  const o = LAYER_DESC_OFFSETS;
  view.setUint32(o.packed, desc.packed, true);
  view.setUint32(o.inputs, desc.inputs, true);
  view.setUint32(o.outputs, desc.outputs, true);
  view.setUint32(o.activation, desc.activation, true);
  desc.params.forEach((p, j) => view.setFloat32(o.params + 4 * j, p, true));
  view.setUint32(o.slopes, desc.slopes, true);
}

/** `Step.code` of a per-unit affine step (crate/src/model.rs `AFFINE`): outside the activation codes. */
export const AFFINE_CODE = 256;

/** A step after a layer's activation: crate/src/model.rs `Step`. */
export interface StepDesc {
  /** An activation code, or AFFINE_CODE. */
  code: number;
  params: readonly [number, number, number];
  /** Byte address of the affine step's scales then shifts, or of prelu's slopes; 0 for the others. */
  values: number;
}

/** `Step`: `#[repr(C)]`, five little-endian 32-bit words (the crate asserts the size). */
const STEP_DESC_OFFSETS = { code: 0, params: 4, values: 16 } as const;
export const STEP_DESC_BYTES = 20;

export function writeStepDesc(memory: WebAssembly.Memory, at: number, step: StepDesc): void {
  const view = new DataView(memory.buffer, at, STEP_DESC_BYTES);
  const o = STEP_DESC_OFFSETS;
  view.setUint32(o.code, step.code, true);
  step.params.forEach((p, j) => view.setFloat32(o.params + 4 * j, p, true));
  view.setUint32(o.values, step.values, true);
}

/** `ModelLayer`, an entry of the table `simdnet_model_forward` walks: a `LayerDesc`, then its steps' address and count. */
const MODEL_LAYER_OFFSETS = { steps: LAYER_DESC_BYTES, stepCount: LAYER_DESC_BYTES + 4 } as const;
export const MODEL_LAYER_BYTES = 40;

export function writeModelLayer(memory: WebAssembly.Memory, at: number, desc: LayerDesc, steps: number, stepCount: number): void {
  writeLayerDesc(memory, at, desc);
  const view = new DataView(memory.buffer, at, MODEL_LAYER_BYTES);
  view.setUint32(MODEL_LAYER_OFFSETS.steps, steps, true);
  view.setUint32(MODEL_LAYER_OFFSETS.stepCount, stepCount, true);
}
