//! The threaded builds' side of the worker pool: every thread (the caller as thread 0, and each
//! worker) runs `run` over one `PoolJob`: a Sequential model's forward pass (a single dense layer is
//! a one-layer model), or an elementwise activation, whose chunks every thread claims through an
//! atomic counter. A model runs layer by layer: thread 0 prepares (applies the previous layer's
//! row-wise activation and steps, then interleaves x for an f32 layer or quantizes it for an int8
//! one), a barrier, then every thread claims tiles of the layer through the counter, a barrier.
//! Each output is computed by one thread with the same instructions as on one thread, so the
//! results are the same bits whatever the thread count.
//!
//! The host wakes the workers (Atomics.notify on `PoolJob::generation`) and only for jobs large
//! enough to pay for it; inside a job, threads wait for each other by spinning, which a browser's
//! main thread may do.
use core::sync::atomic::{AtomicU32, Ordering::*};

use crate::abi::{ModelLayer, PoolJob, STALLED, job_kind, weight_format};
use crate::activation::{ActivationLoops, Linear, rowwise, with_activation};
use crate::dense::{Kernel, Shape, Tiles, Tiling, applies_after, apply_after, int8, microkernel};
use crate::model::{self, destination, run_steps};

/// Tiles per thread a layer is cut into (XNNPACK keeps ≥ 5): a thread the machine slows down
/// leaves its remaining tiles to the others.
const TILES_PER_THREAD: usize = 6;
/// Below this many multiply-adds thread 0 computes a layer alone: the claims would cost more than
/// they save.
const MIN_SPLIT_MADDS: usize = 1 << 16;

/// A layer's output cut into `groups` of `panels_per` column panels × `chunks` of `blocks_per` row
/// blocks of the kernel's `Tiling` (the last chunk also taking the `batch % mr` rows).
struct Split {
    panels: usize,
    panels_per: usize,
    blocks: usize,
    blocks_per: usize,
    chunks: usize,
    count: usize,
}

impl Split {
    /// `TILES_PER_THREAD` tiles per thread where the output has that many panels and row blocks, or
    /// one tile (whichever thread claims it) for a layer under `MIN_SPLIT_MADDS`.
    fn new(batch: usize, shape: Shape, threads: usize, tiling: Tiling) -> Split {
        let (panels, blocks) = (tiling.panels(shape.outputs), batch / tiling.mr);
        let target = if batch * shape.inputs * shape.outputs >= MIN_SPLIT_MADDS { TILES_PER_THREAD * threads } else { 1 };
        let panels_per = panels.div_ceil(target.min(panels));
        let groups = panels.div_ceil(panels_per);
        let row_chunks = blocks.max(1);
        let blocks_per = row_chunks.div_ceil(target.div_ceil(groups).min(row_chunks));
        let chunks = row_chunks.div_ceil(blocks_per);
        Split { panels, panels_per, blocks, blocks_per, chunks, count: groups * chunks }
    }

    fn tile(&self, t: usize) -> Tiles {
        let (group, chunk) = (t / self.chunks, t % self.chunks);
        let panels = group * self.panels_per..((group + 1) * self.panels_per).min(self.panels);
        let blocks = chunk * self.blocks_per..((chunk + 1) * self.blocks_per).min(self.blocks);
        Tiles { panels, blocks, tail: chunk + 1 == self.chunks }
    }
}

/// A barrier over `threads` threads, counting arrivals on a counter that only grows (from `base`,
/// its value when the job began), so that no thread ever has to reset it.
struct Barrier<'a> {
    arrived: &'a AtomicU32,
    /// The job's tile counter: a thread claiming work is progress too.
    claims: &'a AtomicU32,
    base: u32,
    threads: u32,
    passed: u32,
    /// Thread 0 (the caller) gives up when the others stop making progress; workers wait.
    caller: bool,
}

/// Spins without any arrival or claim after which the caller takes a thread for dead (0.5–2 s here):
/// a live thread at most finishes one tile in that time, or is descheduled that long only on a
/// machine far more oversubscribed than the pool allows.
const STALL_SPINS: u32 = 1 << 27;

impl Barrier<'_> {
    /// The job's last barrier: the caller waits for every thread (the host may then publish the next
    /// job over this one), the others arrive and return to sleep at once. Waiting there too, they
    /// kept spinning on the cores a descheduled thread needed to arrive: with 4 threads on this
    /// machine's 2 cores, each call of the Keras MLP at batch 1024 took a scheduler tick (4 ms).
    #[must_use]
    fn finish(&mut self) -> bool {
        if self.caller {
            return self.wait();
        }
        self.passed += 1;
        self.arrived.fetch_add(1, Release);
        true
    }

    /// Waits for every thread; false (the caller only) when they stopped making progress before.
    #[must_use]
    fn wait(&mut self) -> bool {
        self.passed += 1;
        self.arrived.fetch_add(1, AcqRel);
        let mut seen = (self.arrived.load(Acquire), self.claims.load(Relaxed));
        let mut stalled = 0;
        while seen.0.wrapping_sub(self.base) < self.passed * self.threads {
            core::hint::spin_loop();
            let now = (self.arrived.load(Acquire), self.claims.load(Relaxed));
            stalled = if now == seen { stalled + 1 } else { 0 };
            if self.caller && stalled == STALL_SPINS {
                return false;
            }
            seen = now;
        }
        true
    }
}

/// Behind `abi::simdnet_pool_run`, whose doc states the contract.
pub unsafe fn run(job: &PoolJob, thread: u32) -> u32 {
    let mut barrier = Barrier {
        arrived: &job.arrived,
        claims: &job.next_tile,
        base: job.base,
        threads: job.threads,
        passed: 0,
        caller: thread == 0,
    };
    match job.kind {
        job_kind::MODEL => unsafe { model_forward(job, thread, &mut barrier) },
        job_kind::ACTIVATE => unsafe { activate(job, &mut barrier) },
        job_kind::ROWWISE => unsafe { rowwise_rows(job, &mut barrier) },
        // Every thread reads the same kind, so all of them return here, none waiting at a barrier.
        _ => 1,
    }
}

/// Floats per claim of an elementwise activation: a multiple of the vector width, so that every
/// float sits in the same lane of the same kind of vector as on one thread.
const ACTIVATE_CHUNK: usize = 16384;

/// `simdnet_activate` by chunks claimed through the counter; 1 (nothing written) for a code it
/// does not apply elementwise.
unsafe fn activate(job: &PoolJob, barrier: &mut Barrier) -> u32 {
    let (n, x, y) = (job.batch as usize, job.x, job.y);
    let layer = &job.layer.desc;
    let done = with_activation(layer.activation, layer.params, &mut |act| loop {
        let start = job.next_tile.fetch_add(1, Relaxed) as usize * ACTIVATE_CHUNK;
        if start >= n {
            break;
        }
        unsafe { crate::activation::activate(act, x.add(start), ACTIVATE_CHUNK.min(n - start), y.add(start)) };
    });
    // The caller reads y once it returns: every chunk must be written by then.
    if !barrier.finish() {
        return STALLED;
    }
    !done as u32
}

/// `rowwise` by blocks of whole rows (about `ACTIVATE_CHUNK` floats) claimed through the counter;
/// 1 (nothing written) for a code or width it cannot apply, which every thread finds alike.
unsafe fn rowwise_rows(job: &PoolJob, barrier: &mut Barrier) -> u32 {
    let (rows, cols, code) = (job.batch as usize, job.layer.desc.inputs as usize, job.layer.desc.activation);
    let out_cols = if code == crate::abi::code::GLU { cols / 2 } else { cols };
    let per_claim = (ACTIVATE_CHUNK / cols.max(1)).max(1);
    let mut status = 0;
    loop {
        let first = job.next_tile.fetch_add(1, Relaxed) as usize * per_claim;
        if first >= rows {
            break;
        }
        let (x, y) = unsafe { (job.x.add(first * cols), job.y.add(first * out_cols)) };
        status |= unsafe { rowwise(code, x, per_claim.min(rows - first), cols, y, core::ptr::null_mut()) };
    }
    if !barrier.finish() {
        return STALLED;
    }
    status
}

/// Rows per chunk of a model run by rows: a multiple of every kernel's `mr`, so that a chunk's row
/// blocks are those one thread forms (the same tiles, the same bits), and enough rows that a
/// chunk's work (64 × the model's multiply-adds per row) dwarfs its claim.
const ROW_CHUNK: usize = 64;
const _: () = assert!(ROW_CHUNK % microkernel::MR == 0 && ROW_CHUNK % int8::microkernel::MR == 0);
/// Packed weights up to which a model may run by rows: every thread then reads all of them, which
/// stay in its core's L2 (1 MiB here) beside a chunk's rows. Larger layers split by tiles, so that
/// each thread reads its own column panels.
const ROW_SPLIT_WEIGHT_BYTES: usize = 256 << 10;

/// The floats of scratch each thread gets when `job`'s model runs by rows: chunks of `ROW_CHUNK`
/// rows claimed through the counter, each taken through every layer and step by one thread, with no
/// barrier between layers (the layer-by-layer split waits twice per layer, and thread 0 alone
/// prepares each layer's input while the others wait: the Keras MLP at batch 1024 gained 1.56× from
/// a second thread that way). For a batch of at least two chunks per thread, weights within
/// `ROW_SPLIT_WEIGHT_BYTES`, and a scratch that holds one chunk's needs per thread (the host sized
/// it for the whole batch). Every thread decides alike from the job.
fn row_split_scratch(job: &PoolJob) -> Option<usize> {
    let (batch, threads) = (job.batch as usize, job.threads as usize);
    if batch < 2 * threads * ROW_CHUNK {
        return None;
    }
    let layers = unsafe { core::slice::from_raw_parts(job.table, job.layers as usize) };
    let weight_bytes = |l: &ModelLayer| {
        let width = if l.weights == weight_format::INT8 { 1 } else { 4 };
        l.desc.inputs as usize * l.desc.outputs as usize * width
    };
    // Whole vectors, so that every thread's region starts 16-byte aligned as the host's scratch does.
    let per_thread = model::scratch_len(layers, ROW_CHUNK).checked_next_multiple_of(4)?;
    (layers.iter().map(weight_bytes).sum::<usize>() <= ROW_SPLIT_WEIGHT_BYTES
        && threads.saturating_mul(per_thread) <= model::scratch_len(layers, batch))
    .then_some(per_thread)
}

/// A model by chunks of rows (see `row_split_scratch`). Thread 0 runs chunk 0 before claiming
/// others, so that it meets a layer that fails (every chunk fails at the same layer, before writing
/// it) and returns the status one thread would.
unsafe fn model_rows(job: &PoolJob, thread: u32, barrier: &mut Barrier, scratch_per_thread: usize) -> u32 {
    let batch = job.batch as usize;
    let scratch = unsafe { job.scratch.add(thread as usize * scratch_per_thread) };
    let run = |chunk: usize| {
        let rows = chunk * ROW_CHUNK..((chunk + 1) * ROW_CHUNK).min(batch);
        unsafe { model::forward_rows(job.table, job.layers as usize, job.x, rows, job.hidden_a, job.hidden_b, job.y, scratch) }
    };
    let mut status = if thread == 0 { run(0) } else { 0 };
    loop {
        let chunk = 1 + job.next_tile.fetch_add(1, Relaxed) as usize;
        if chunk * ROW_CHUNK >= batch {
            break;
        }
        status |= run(chunk);
    }
    // The caller reads y once it returns: every chunk must be written by then.
    if !barrier.finish() {
        return STALLED;
    }
    status
}

unsafe fn model_forward(job: &PoolJob, thread: u32, barrier: &mut Barrier) -> u32 {
    if let Some(scratch_per_thread) = row_split_scratch(job) {
        return unsafe { model_rows(job, thread, barrier, scratch_per_thread) };
    }
    let (layers, batch, threads) = (job.layers as usize, job.batch as usize, job.threads);
    let mut src = job.x;
    let mut previous: Option<(&ModelLayer, *mut f32)> = None;
    for i in 0..layers {
        let entry = unsafe { &*job.table.add(i) };
        let (layer, dst) = (&entry.desc, destination(i, layers, job.hidden_a, job.hidden_b, job.y));
        let shape = Shape { inputs: layer.inputs as usize, outputs: layer.outputs as usize };
        let kernel = Kernel::of(entry.weights);
        if thread == 0 {
            // The status `simdnet_model_forward` would return: 1 + the index of the layer that fails.
            let status = if previous.is_some_and(|(done, y)| !unsafe { finish(done, y, batch, job.scratch) }) {
                i as u32
            } else if let Some(kernel) = kernel
                && (applies_after(layer.activation) || with_activation(layer.activation, layer.params, &mut |_| {}))
            {
                unsafe { kernel.prepare(src, batch, shape, job.scratch) };
                0
            } else {
                1 + i as u32
            };
            job.next_tile.store(0, Relaxed);
            job.status.store(status, Relaxed);
        }
        if !barrier.wait() {
            return STALLED;
        }
        let status = job.status.load(Relaxed);
        if status != 0 {
            // Thread 0 returns once every thread has read the status: the host may then publish the
            // next job over this one (whose status a late reader would take for this layer's).
            return if barrier.finish() { status } else { STALLED };
        }
        // Never taken: thread 0 stopped every thread above for a weight format without a kernel.
        let Some(kernel) = kernel else { return 1 + i as u32 };
        let split = Split::new(batch, shape, threads as usize, kernel.tiling());
        let mut compute = |act: &dyn ActivationLoops| loop {
            let t = job.next_tile.fetch_add(1, Relaxed) as usize;
            if t >= split.count {
                break;
            }
            unsafe { kernel.tiles(act, src, batch, shape, layer.packed, dst, job.scratch, split.tile(t)) };
        };
        if !with_activation(layer.activation, layer.params, &mut compute) {
            compute(&Linear);
        }
        if !(if i + 1 == layers { barrier.finish() } else { barrier.wait() }) {
            return STALLED;
        }
        previous = Some((entry, dst));
        src = dst;
    }
    match previous {
        Some((last, y)) if thread == 0 && !unsafe { finish(last, y, batch, job.scratch) } => layers as u32,
        _ => 0,
    }
}

/// What follows a layer's tiles on thread 0: its activation if applied after them, then its steps;
/// false if one of them cannot be applied.
unsafe fn finish(entry: &ModelLayer, y: *mut f32, batch: usize, scratch: *mut f32) -> bool {
    let layer = &entry.desc;
    let act = layer.activation;
    (!applies_after(act) || unsafe { apply_after(act, y, batch, layer.outputs as usize, layer.slopes, scratch) } == 0)
        && unsafe { run_steps(entry, y, batch, scratch) }
}
