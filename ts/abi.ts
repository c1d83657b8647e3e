// The wasm module's exported interface; mirrors crate/src (activation codes, LayerDesc layout).

export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  readonly __heap_base: WebAssembly.Global;
  simdnet_relaxed_simd(): number;
  simdnet_activate(code: number, alpha: number, x: number, n: number, y: number): number;
  simdnet_softmax(x: number, rows: number, cols: number, y: number): void;
  simdnet_dense_packed_len(inputs: number, outputs: number): number;
  simdnet_dense_pack(kernel: number, bias: number, inputs: number, outputs: number, transposed: number, packed: number): void;
  simdnet_dense_unpack(packed: number, inputs: number, outputs: number, kernel: number, bias: number): void;
  simdnet_dense_scratch_len(batch: number, inputs: number): number;
  simdnet_dense(x: number, batch: number, inputs: number, outputs: number, packed: number, act: number, alpha: number, y: number, scratch: number): number;
  simdnet_model_forward(table: number, layers: number, x: number, batch: number, hiddenA: number, hiddenB: number, y: number, scratch: number): number;
}

/** Activation codes of crate/src/activation.rs. */
export const ActivationCode = {
  linear: 0,
  relu: 1,
  leaky_relu: 2,
  sigmoid: 3,
  tanh: 4,
  softmax: 5,
} as const;

/** `LayerDesc` of crate/src/model.rs: packed ptr, inputs, outputs (u32), activation (u32), alpha (f32). */
export const LAYER_DESC_BYTES = 20;
