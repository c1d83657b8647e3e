//! The module's whole interface with its host, in one place (mirrored in ts/abi.ts, in the same
//! order): the exported functions, the codes they take, and the `#[repr(C)]` structs the host
//! writes into linear memory, each with its size and the offsets of its fields asserted at
//! compile time (`layout!`). Modules implement; this file only declares.
//!
//! Modules call the entry points here too, not the implementations behind them: each
//! implementation then has one caller, is inlined into its export, and is compiled once.
use core::mem::{offset_of, size_of};
use core::sync::atomic::AtomicU32;

use crate::activation::{self, rowwise, with_activation};
use crate::{dense, model, train};

/// The activation codes. Parameters travel as three floats `p`, whose meaning each code documents.
pub mod code {
    pub const LINEAR: u32 = 0;
    pub const RELU: u32 = 1;
    /// p: negative slope.
    pub const LEAKY_RELU: u32 = 2;
    pub const SIGMOID: u32 = 3;
    pub const TANH: u32 = 4;
    /// p: negative slope, max value (+Inf: none), threshold.
    pub const RELU_GENERAL: u32 = 5;
    pub const RELU6: u32 = 6;
    /// p: alpha, scale, divisor (elu: α, 1, 1; selu: α, λ, 1; celu: α, 1, α).
    pub const ELU: u32 = 7;
    pub const EXPONENTIAL: u32 = 8;
    pub const GELU: u32 = 9;
    pub const GELU_TANH: u32 = 10;
    /// p: alpha, beta/alpha.
    pub const HARD_SIGMOID: u32 = 11;
    /// p: alpha, beta/alpha (x · hard_sigmoid).
    pub const HARD_SILU: u32 = 12;
    /// p: min, max.
    pub const HARD_TANH: u32 = 13;
    /// p: threshold.
    pub const HARD_SHRINK: u32 = 14;
    /// p: threshold.
    pub const SOFT_SHRINK: u32 = 15;
    pub const LOG_SIGMOID: u32 = 16;
    pub const MISH: u32 = 17;
    /// p: beta (x · sigmoid(beta·x)).
    pub const SWISH: u32 = 18;
    /// p: beta, threshold.
    pub const SOFTPLUS: u32 = 19;
    pub const SOFTSIGN: u32 = 20;
    pub const SPARSE_PLUS: u32 = 21;
    pub const SPARSE_SIGMOID: u32 = 22;
    /// p: b.
    pub const SQUAREPLUS: u32 = 23;
    pub const TANH_SHRINK: u32 = 24;
    /// p: threshold, value.
    pub const THRESHOLD: u32 = 25;
    /// Row-wise codes start here.
    pub const SOFTMAX: u32 = 64;
    pub const LOG_SOFTMAX: u32 = 65;
    pub const SOFTMIN: u32 = 66;
    pub const SPARSEMAX: u32 = 67;
    pub const GLU: u32 = 68;
    /// One slope per position of the last axis, passed by pointer (`simdnet_prelu`, and dense layers).
    pub const PRELU: u32 = 69;
}

/// `ModelStep::code` of a per-unit affine step, `y = x·scale[c] + shift[c]` per column c: outside
/// the activation codes' range.
pub const AFFINE: u32 = 256;

/// `LossDesc::code`.
pub mod loss_code {
    pub const MEAN_SQUARED_ERROR: u32 = 0;
    pub const MEAN_ABSOLUTE_ERROR: u32 = 1;
    pub const HUBER: u32 = 2;
    pub const BINARY_CROSSENTROPY: u32 = 3;
    pub const CATEGORICAL_CROSSENTROPY: u32 = 4;
}

/// `ModelLayer::weights`: how the layer's packed weights are stored.
pub mod weight_format {
    /// `simdnet_dense_pack`'s float32 panels.
    pub const F32: u32 = 0;
    /// `simdnet_qdense_pack`'s int8 panels.
    pub const INT8: u32 = 1;
}

/// `OptimizerDesc::kind`.
pub mod optimizer_kind {
    pub const SGD: u32 = 0;
    pub const ADAM: u32 = 1;
    pub const RMSPROP: u32 = 2;
}

/// Bits of `OptimizerDesc::flags`.
pub mod optimizer_flag {
    pub const NESTEROV: u32 = 1;
    pub const AMSGRAD: u32 = 2;
    pub const CENTERED: u32 = 4;
}

/// `TrainStep::mode`, what a step runs: the forward pass and the loss only (`LOSS`); any other
/// mode goes on to the gradients (left in each layer's `grad`), and `UPDATE` then applies the
/// optimizer.
pub mod step_mode {
    pub const LOSS: u32 = 0;
    pub const UPDATE: u32 = 2;
}

/// What the `*_len` functions return for a size that does not fit in wasm32's address space: no
/// allocation can hold it (the caller turns it into an out-of-memory error).
pub const TOO_LARGE: usize = usize::MAX;

/// Asserts at compile time that struct `T` is `size` bytes with each listed field at its byte offset:
/// the numbers ts/abi.ts writes at (test/abi.test.ts compares the two files).
macro_rules! layout {
    ($t:ident: $size:literal { $($field:ident: $offset:literal),* $(,)? }) => {
        const _: () = assert!(size_of::<$t>() == $size);
        $(const _: () = assert!(offset_of!($t, $field) == $offset);)*
    };
}

/// One dense layer: its weights and fused activation, laid out as 8 little-endian 32-bit words.
/// Training's table embeds it too (`TrainLayer`).
#[repr(C)]
pub struct LayerDesc {
    pub(crate) packed: *const f32,
    pub(crate) inputs: u32,
    pub(crate) outputs: u32,
    pub(crate) activation: u32,
    pub(crate) params: [f32; 3],
    /// prelu's slopes (`outputs` floats), or null.
    pub(crate) slopes: *const f32,
}
layout!(LayerDesc: 32 { packed: 0, inputs: 4, outputs: 8, activation: 12, params: 16, slopes: 28 });

/// A step run over a layer's output after its fused activation (an imported model's further
/// activation layers, or a per-unit affine such as an inference-mode BatchNormalization).
#[repr(C)]
pub struct ModelStep {
    /// An activation code (elementwise, row-wise or prelu), or `AFFINE`.
    pub(crate) code: u32,
    pub(crate) params: [f32; 3],
    /// `AFFINE`: `outputs` scales then `outputs` shifts; prelu: `outputs` slopes; otherwise unused.
    pub(crate) values: *const f32,
}
layout!(ModelStep: 20 { code: 0, params: 4, values: 16 });

/// One entry of the table `simdnet_model_forward` walks: a dense layer and its `step_count` steps.
#[repr(C)]
pub struct ModelLayer {
    pub(crate) desc: LayerDesc,
    pub(crate) steps: *const ModelStep,
    pub(crate) step_count: u32,
    /// A `weight_format`: which kernel runs the layer.
    pub(crate) weights: u32,
}
layout!(ModelLayer: 44 { desc: 0, steps: 32, step_count: 36, weights: 40 });

/// A layer of the training table: its inference descriptor, then its training buffers.
#[repr(C)]
pub struct TrainLayer {
    pub desc: LayerDesc,
    /// Pre-activation and activation, `batch × outputs` each (`a` may equal `z` for linear).
    pub z: *mut f32,
    pub a: *mut f32,
    /// The gradient of the packed weights, `packed_len` floats; for prelu followed by its slopes'
    /// gradient and a working copy of the slopes, `Slopes::len` floats each.
    pub grad: *mut f32,
    /// The optimizer's state arrays, `packed_len` (+ `Slopes::len` for prelu) floats each, or null where unused.
    pub state: [*mut f32; 3],
}
layout!(TrainLayer: 56 { desc: 0, z: 32, a: 36, grad: 40, state: 44 });

/// The loss of a step: which, its options, and the mean loss the step writes back.
#[repr(C)]
pub struct LossDesc {
    /// A `loss_code`.
    pub code: u32,
    /// Non-zero: the outputs are logits (Keras' `from_logits`; cross-entropies only).
    pub from_logits: u32,
    /// huber's delta.
    pub delta: f32,
    /// Written by the step: the batch's mean loss.
    pub value: f32,
}
layout!(LossDesc: 16 { code: 0, from_logits: 4, delta: 8, value: 12 });

/// An optimizer and this step's hyperparameters. Options that are off are 0.
#[repr(C)]
pub struct OptimizerDesc {
    /// An `optimizer_kind`.
    pub kind: u32,
    /// `optimizer_flag` bits.
    pub flags: u32,
    pub learning_rate: f32,
    /// adam: β1; sgd: momentum; rmsprop: ρ.
    pub beta1: f32,
    /// adam: β2; rmsprop: momentum.
    pub beta2: f32,
    pub epsilon: f32,
    /// adam: this step's lr·√(1 − β2ᵗ)/(1 − β1ᵗ), computed by the caller.
    pub step_size: f32,
    pub weight_decay: f32,
    /// Per variable (kernel, bias), as Keras' `clipnorm`.
    pub clipnorm: f32,
    pub global_clipnorm: f32,
    pub clipvalue: f32,
}
layout!(OptimizerDesc: 44 {
    kind: 0, flags: 4, learning_rate: 8, beta1: 12, beta2: 16, epsilon: 20, step_size: 24, weight_decay: 28, clipnorm: 32, global_clipnorm: 36,
    clipvalue: 40,
});

/// What `simdnet_train_step` runs: forward, loss, backward, update over a table of layers.
#[repr(C)]
pub struct TrainStep {
    pub layers: *mut TrainLayer,
    pub count: u32,
    /// `batch × inputs` inputs and `batch × outputs` targets (one-hot for sparse labels).
    pub x: *const f32,
    pub targets: *const f32,
    pub batch: u32,
    /// Two buffers of `batch × widest layer` floats for the gradients flowing between layers.
    pub gradient_a: *mut f32,
    pub gradient_b: *mut f32,
    pub scratch: *mut f32,
    /// A `step_mode`.
    pub mode: u32,
    pub loss: LossDesc,
    pub optimizer: OptimizerDesc,
}
layout!(TrainStep: 96 {
    layers: 0, count: 4, x: 8, targets: 12, batch: 16, gradient_a: 20, gradient_b: 24, scratch: 28, mode: 32, loss: 36, optimizer: 52,
});

/// `PoolJob::kind`.
#[cfg_attr(not(simdnet_threads), allow(dead_code))]
pub mod job_kind {
    /// `simdnet_model_forward`'s arguments (a single dense layer: a one-layer table, `layer`).
    pub const MODEL: u32 = 0;
    /// `simdnet_activate` of `layer.desc`'s activation and parameters over `batch` floats of `x` into `y`.
    pub const ACTIVATE: u32 = 1;
    /// `simdnet_rowwise` of `layer.desc.activation` over `batch` rows of `layer.desc.inputs` floats of
    /// `x` into `y`, for the codes that need no scratch (every thread would share it).
    pub const ROWWISE: u32 = 2;
}

/// The job the threads of a pool share (threaded builds), of a `job_kind`. The host writes it, bumps
/// `generation` and wakes the workers; every thread then calls `simdnet_pool_run`.
#[cfg_attr(not(simdnet_threads), allow(dead_code))]
#[repr(C)]
pub struct PoolJob {
    /// Bumped by the host for each job the workers join (they wait on it with Atomics.wait).
    pub(crate) generation: AtomicU32,
    /// Workers + 1 (the calling thread).
    pub(crate) threads: u32,
    /// The next tile of the current layer to claim.
    pub(crate) next_tile: AtomicU32,
    /// Barrier arrivals, ever growing; `base` is its value when the job was published.
    pub(crate) arrived: AtomicU32,
    pub(crate) base: u32,
    /// Set by thread 0 before a barrier: nonzero stops every thread (the status thread 0 returns).
    pub(crate) status: AtomicU32,
    pub(crate) kind: u32,
    /// `simdnet_model_forward`'s arguments.
    pub(crate) table: *const ModelLayer,
    pub(crate) layers: u32,
    pub(crate) x: *const f32,
    pub(crate) batch: u32,
    pub(crate) hidden_a: *mut f32,
    pub(crate) hidden_b: *mut f32,
    pub(crate) y: *mut f32,
    pub(crate) scratch: *mut f32,
    /// The table of a single dense layer's job.
    pub(crate) layer: ModelLayer,
}
layout!(PoolJob: 104 {
    generation: 0, threads: 4, next_tile: 8, arrived: 12, base: 16, status: 20, kind: 24, table: 28, layers: 32, x: 36, batch: 40,
    hidden_a: 44, hidden_b: 48, y: 52, scratch: 56, layer: 60,
});

/// Which build this is: 2 relaxed SIMD, 1 SIMD128, 0 scalar; lets the loader report what runs.
#[unsafe(no_mangle)]
pub extern "C" fn simdnet_build() -> u32 {
    cfg!(target_feature = "relaxed-simd") as u32 + cfg!(target_feature = "simd128") as u32
}

/// `y[i] = act(x[i])` for `i < n`; `y` may equal `x` (in place) but must not overlap it otherwise.
/// Returns 0, or 1 for an unknown or row-wise code (nothing written).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_activate(code: u32, p0: f32, p1: f32, p2: f32, x: *const f32, n: usize, y: *mut f32) -> u32 {
    let done = with_activation(code, [p0, p1, p2], &mut |act| unsafe { activation::activate(act, x, n, y) });
    !done as u32
}

/// The backward pass `dx[i] = dy[i]·f'(x[i])` (NaN where x is NaN); `dx` may equal `x` or `dy`. Returns 0, or 1 for an
/// unknown or row-wise code (nothing written).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_activate_backward(
    code: u32,
    p0: f32,
    p1: f32,
    p2: f32,
    x: *const f32,
    dy: *const f32,
    n: usize,
    dx: *mut f32,
) -> u32 {
    let done = with_activation(code, [p0, p1, p2], &mut |act| unsafe { activation::activate_backward(act, x, dy, n, dx) });
    !done as u32
}

/// Row-wise activation over `rows × cols`, with `scratch` of `simdnet_rowwise_scratch_len` floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_rowwise(code: u32, x: *const f32, rows: usize, cols: usize, y: *mut f32, scratch: *mut f32) -> u32 {
    unsafe { rowwise(code, x, rows, cols, y, scratch) }
}

#[unsafe(no_mangle)]
pub extern "C" fn simdnet_rowwise_scratch_len(code: u32, cols: usize) -> usize {
    activation::rowwise_scratch_len(code, cols)
}

/// Backward pass of a row-wise activation over `rows × cols` inputs (softmax, log_softmax, softmin,
/// sparsemax with `scratch` of `simdnet_rowwise_scratch_len` floats, glu with dy of rows × cols/2).
/// Returns 0, or 1 for a code without one or an odd glu width (nothing written).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_rowwise_backward(
    code: u32,
    x: *const f32,
    dy: *const f32,
    rows: usize,
    cols: usize,
    dx: *mut f32,
    scratch: *mut f32,
) -> u32 {
    unsafe { activation::rowwise_backward(code, x, dy, rows, cols, dx, scratch) }
}

/// PRelu (ONNX): `x > 0 ? x : slope[c]·x` with one slope per position c of the last axis (`cols`).
/// `y` may equal `x`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_prelu(x: *const f32, rows: usize, cols: usize, slope: *const f32, y: *mut f32) {
    unsafe { activation::prelu(x, rows, cols, slope, y) }
}

/// PRelu's backward pass, `dx = dy · (x > 0 ? 1 : slope[c])` (NaN where x is NaN).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_prelu_backward(x: *const f32, dy: *const f32, rows: usize, cols: usize, slope: *const f32, dx: *mut f32) {
    unsafe { activation::prelu_backward(x, dy, rows, cols, slope, dx) }
}

/// Floats needed by the packed weights of an `inputs × outputs` layer, or `TOO_LARGE`.
#[unsafe(no_mangle)]
pub extern "C" fn simdnet_dense_packed_len(inputs: usize, outputs: usize) -> usize {
    dense::packing::packed_len(inputs, outputs).unwrap_or(TOO_LARGE)
}

/// Packs `kernel` and `bias` (null: zeros) into `packed` (`simdnet_dense_packed_len` floats).
/// `transposed == 0`: kernel is `[inputs × outputs]` row-major (Keras, TF.js); otherwise it is
/// `[outputs × inputs]` (PyTorch Linear, ONNX Gemm with transB).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_dense_pack(
    kernel: *const f32,
    bias: *const f32,
    inputs: usize,
    outputs: usize,
    transposed: u32,
    packed: *mut f32,
) {
    unsafe { dense::packing::pack(kernel, bias, inputs, outputs, transposed != 0, packed) }
}

/// Writes the packed weights back as `kernel[inputs × outputs]` and `bias[outputs]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_dense_unpack(packed: *const f32, inputs: usize, outputs: usize, kernel: *mut f32, bias: *mut f32) {
    unsafe { dense::packing::unpack(packed, inputs, outputs, kernel, bias) }
}

/// Floats of scratch `simdnet_dense` needs for `batch` rows of `inputs` with activation `act`, or
/// `TOO_LARGE`.
#[unsafe(no_mangle)]
pub extern "C" fn simdnet_dense_scratch_len(batch: usize, inputs: usize, outputs: usize, act: u32) -> usize {
    dense::microkernel::scratch_len(batch, inputs).map_or(TOO_LARGE, |len| len.max(activation::rowwise_scratch_len(act, outputs)))
}

/// `y[batch × outputs] = act(x[batch × inputs] · W + b)` with W packed by `simdnet_dense_pack`, using
/// `scratch` (`simdnet_dense_scratch_len` floats); `p0..p2` are the activation's parameters, `slopes`
/// prelu's (`outputs` floats; unused by other activations). `x`, `y` and `scratch` must not overlap.
/// Returns 0, or 1 for an activation the layer cannot apply (unknown, or glu, which halves the
/// width): nothing is written then.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_dense(
    x: *const f32,
    batch: usize,
    inputs: usize,
    outputs: usize,
    packed: *const f32,
    act: u32,
    p0: f32,
    p1: f32,
    p2: f32,
    slopes: *const f32,
    y: *mut f32,
    scratch: *mut f32,
) -> u32 {
    unsafe { dense::forward(dense::Kernel::F32, x, batch, inputs, outputs, packed, act, [p0, p1, p2], slopes, y, scratch) }
}

/// Words (32-bit) of the int8 packed weights of an `inputs × outputs` layer, or `TOO_LARGE`.
#[unsafe(no_mangle)]
pub extern "C" fn simdnet_qdense_packed_len(inputs: usize, outputs: usize) -> usize {
    dense::int8::packing::packed_len(inputs, outputs).unwrap_or(TOO_LARGE)
}

/// Packs int8 `codes` (`[inputs × outputs]` row-major, or `[outputs × inputs]` when `transposed` is
/// non-zero; the full -128..=127), one `scales` per output (weight = code·scale) and `bias` (null:
/// zeros) into `packed` (`simdnet_qdense_packed_len` words).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_qdense_pack(
    codes: *const i8,
    scales: *const f32,
    bias: *const f32,
    inputs: usize,
    outputs: usize,
    transposed: u32,
    packed: *mut u32,
) {
    unsafe { dense::int8::packing::pack(codes, scales, bias, inputs, outputs, transposed != 0, packed) }
}

/// Writes the packed int8 weights back as `codes[inputs × outputs]` (bytes), `scales[outputs]` and `bias[outputs]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_qdense_unpack(packed: *const u32, inputs: usize, outputs: usize, codes: *mut i8, scales: *mut f32, bias: *mut f32) {
    unsafe { dense::int8::packing::unpack(packed, inputs, outputs, codes, scales, bias) }
}

/// Floats of scratch `simdnet_qdense` needs for `batch` rows of `inputs` with activation `act`, or `TOO_LARGE`.
#[unsafe(no_mangle)]
pub extern "C" fn simdnet_qdense_scratch_len(batch: usize, inputs: usize, outputs: usize, act: u32) -> usize {
    dense::int8::microkernel::scratch_bytes(batch, inputs)
        .map_or(TOO_LARGE, |bytes| bytes.div_ceil(4).max(activation::rowwise_scratch_len(act, outputs)))
}

/// `simdnet_dense` over int8 weights packed by `simdnet_qdense_pack`: each row of x is quantized to
/// 7 bits (its step and zero point from its range with 0 in it; a row with NaN or ±Inf gives NaN
/// before the activation), multiplied in i32, then dequantized, biased and activated in f32. Same
/// arguments and result as `simdnet_dense`, with `scratch` of `simdnet_qdense_scratch_len` floats.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_qdense(
    x: *const f32,
    batch: usize,
    inputs: usize,
    outputs: usize,
    packed: *const u32,
    act: u32,
    p0: f32,
    p1: f32,
    p2: f32,
    slopes: *const f32,
    y: *mut f32,
    scratch: *mut f32,
) -> u32 {
    let packed = packed as *const f32;
    unsafe { dense::forward(dense::Kernel::Int8, x, batch, inputs, outputs, packed, act, [p0, p1, p2], slopes, y, scratch) }
}

/// Runs `layers` dense layers from `table` over `x[batch × inputs0]` into `y[batch × outputs_last]`,
/// alternating between `hidden_a` and `hidden_b` (each `batch × widest hidden layer` floats) for the
/// activations between layers; each layer's steps run in place on its output. `scratch` holds the
/// largest `simdnet_dense_scratch_len` of the layers and `simdnet_rowwise_scratch_len` of their
/// steps. Returns 0, or 1 + the index of a layer whose activation, step or weight format it cannot apply.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_model_forward(
    table: *const ModelLayer,
    layers: usize,
    x: *const f32,
    batch: usize,
    hidden_a: *mut f32,
    hidden_b: *mut f32,
    y: *mut f32,
    scratch: *mut f32,
) -> u32 {
    unsafe { model::forward(table, layers, x, batch, hidden_a, hidden_b, y, scratch) }
}

/// Floats of scratch `simdnet_train_step` needs for `count` layers of `table` at `batch` rows, or
/// `TOO_LARGE` when that does not fit in wasm32.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_train_scratch_len(table: *const TrainLayer, count: usize, batch: usize) -> usize {
    let layers = unsafe { core::slice::from_raw_parts(table, count) };
    train::scratch_len(layers, batch).unwrap_or(TOO_LARGE)
}

/// Runs the training step described at `step`: returns 0, or 1 + the index of a layer whose
/// activation has no training form, or 1 + the layer count for a loss the output layer cannot take.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_train_step(step: *mut TrainStep) -> u32 {
    unsafe { train::run(&mut *step) }
}

/// What `simdnet_pool_run` returns on thread 0 when the other threads stopped making progress (a
/// worker died before or during the job): the host then stops the pool. (ts/abi.ts states it for
/// every build; only the threaded ones return it.)
#[cfg_attr(not(simdnet_threads), allow(dead_code))]
pub const STALLED: u32 = 0xffff_fffe;

/// Runs the job at `job` as thread `thread` (0: the caller) of `job.threads` (threaded builds only):
/// returns, on thread 0, what `simdnet_model_forward` or `simdnet_activate` would for the same
/// arguments, with the same bits in `y`; the workers' answer is unused.
/// `STALLED` when the other threads stopped making progress.
#[cfg(simdnet_threads)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_pool_run(job: *const PoolJob, thread: u32) -> u32 {
    unsafe { crate::pool::run(&*job, thread) }
}
