import {
  LAYER_DESC_OFFSETS,
  MODEL_LAYER_BYTES,
  MODEL_LAYER_OFFSETS,
  POOL_JOB_BYTES,
  POOL_JOB_OFFSETS,
  PoolJobKind,
  RowwiseCode,
  STALLED,
  WeightFormat,
  type KernelExports,
  type PoolExports,
  type PoolJob,
  writeModelLayer,
  writePoolJob,
} from '../abi.js';
import { fail } from '../errors.js';
import { isNode } from '../io/read.js';
import { ALIGN, type Heap } from '../memory.js';
import { WORKER_SOURCE } from './worker-source.js';

/**
 * Below this many multiply-adds (of a dense call, or of a model's largest layer) no worker is woken:
 * a wake-up costs tens of microseconds, as much as ~1M multiply-adds on one thread.
 */
export const WAKE_MIN_MADDS = 1 << 20;
/** The same for an elementwise activation, in floats: relu runs ~2^18 floats in 30 µs, sigmoid in 250 µs. */
export const WAKE_MIN_FLOATS = 1 << 18;
/** Whether the pool splits row-wise `code`: not sparsemax, which sorts each row in the scratch the threads would share. */
export const splitsRowwise = (code: number): boolean => code !== RowwiseCode.sparsemax;
/** How long `init()` waits for the workers to instantiate the module before running on one thread. */
const START_TIMEOUT_MS = 10_000;
/** Each worker's stack: the `-zstack-size` the builds link with. */
const STACK_BYTES = 65536;
/** Where a `ModelLayer`'s sizes lie, in 32-bit words from its start. */
const TABLE_WORDS = {
  inputs: (MODEL_LAYER_OFFSETS.desc + LAYER_DESC_OFFSETS.inputs) / 4,
  outputs: (MODEL_LAYER_OFFSETS.desc + LAYER_DESC_OFFSETS.outputs) / 4,
};
const WORDS = { generation: POOL_JOB_OFFSETS.generation / 4, threads: POOL_JOB_OFFSETS.threads / 4, arrived: POOL_JOB_OFFSETS.arrived / 4 };

const NODE_WORKER_THREADS = 'node:worker_threads';

/** What the pool needs of a worker, whichever API made it. */
interface PoolWorker {
  post(message: unknown): void;
  /** `listener` gets each message, and a description of the worker's death (error or exit). */
  listen(onMessage: (data: unknown) => void, onDeath: (why: string) => void): void;
  /** Lets the process exit while the worker lives (Node; a no-op elsewhere). */
  unref(): void;
  terminate(): void;
}

async function spawn(): Promise<PoolWorker> {
  if (isNode) {
    // A specifier bundlers leave alone: browser bundles never reach this branch.
    const { Worker } = (await import(
      /* webpackIgnore: true */ /* @vite-ignore */ NODE_WORKER_THREADS
    )) as typeof import('node:worker_threads');
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    return {
      post: (message) => worker.postMessage(message),
      listen(onMessage, onDeath) {
        worker.on('message', onMessage);
        worker.on('error', (e) => onDeath(`a worker threw: ${e.message}`));
        worker.on('exit', (code) => onDeath(`a worker exited (code ${code})`));
      },
      unref: () => worker.unref(),
      terminate: () => void worker.terminate(),
    };
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const worker = new Worker(url);
  URL.revokeObjectURL(url);
  return {
    post: (message) => worker.postMessage(message),
    listen(onMessage, onDeath) {
      worker.onmessage = (event) => onMessage(event.data);
      worker.onerror = (event) => onDeath(`a worker threw: ${event.message}`);
    },
    unref: () => {},
    terminate: () => worker.terminate(),
  };
}

/** `promise`, or a rejection with `message` after `ms` (the timer does not outlive the promise). */
async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why this engine cannot run a pool, or undefined when it can. */
export function poolUnavailable(): string | undefined {
  // First: a page that is not cross-origin isolated has no SharedArrayBuffer either, and this says what to do.
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)';
  }
  if (typeof SharedArrayBuffer === 'undefined') return 'this engine has no SharedArrayBuffer';
  if (!isNode && typeof Worker === 'undefined') return 'this runtime has no Worker API';
  return undefined;
}

/**
 * `threads - 1` workers, each running the same module over the same shared memory with its own
 * stack, and the job they share (a `PoolJob` in that memory). The calling thread publishes a job,
 * wakes them and takes a share of it itself (see crate/src/pool.rs), so the API stays synchronous.
 */
export class Pool {
  readonly threads: number;
  readonly #heap: Heap;
  readonly #run: PoolExports['simdnet_pool_run'];
  readonly #workers: PoolWorker[];
  readonly #blocks: number[];
  readonly #job: number;
  readonly #words: Int32Array;
  #table: Uint32Array;
  #failure: string | undefined;
  #stopped = false;
  #jobs = 0;

  private constructor(heap: Heap, wasm: PoolExports, workers: PoolWorker[], blocks: number[]) {
    this.threads = workers.length + 1;
    this.#heap = heap;
    this.#run = wasm.simdnet_pool_run;
    this.#workers = workers;
    this.#blocks = blocks;
    this.#job = blocks[0]!;
    // The job lies in the memory's first pages, which this view keeps covering as the memory grows.
    this.#words = new Int32Array(heap.memory.buffer, this.#job, POOL_JOB_BYTES / 4);
    this.#table = new Uint32Array(heap.memory.buffer);
  }

  /** Starts `threads - 1` workers over `module` and `heap`'s shared memory; throws (having stopped them) if one fails. */
  static async start(module: WebAssembly.Module, heap: Heap, wasm: PoolExports, threads: number): Promise<Pool> {
    const blocks = [heap.alloc(POOL_JOB_BYTES)];
    const workers: PoolWorker[] = [];
    try {
      for (let i = 1; i < threads; i++) blocks.push(heap.alloc(STACK_BYTES));
      const job = blocks[0]!;
      const words = new Int32Array(heap.memory.buffer, job, POOL_JOB_BYTES / 4).fill(0);
      Atomics.store(words, WORDS.threads, threads);
      const ready = [];
      for (let thread = 1; thread < threads; thread++) {
        const worker = await spawn();
        workers.push(worker);
        ready.push(
          new Promise<void>((resolve, reject) => {
            worker.listen(
              (data) => (data === 'ready' ? resolve() : reject(new Error((data as { error?: string }).error))),
              (why) => reject(new Error(why)),
            );
          }),
        );
        worker.post({ module, memory: heap.memory, job, stackTop: blocks[thread]! + STACK_BYTES, thread });
      }
      await withTimeout(Promise.all(ready), START_TIMEOUT_MS, `the workers did not start within ${START_TIMEOUT_MS / 1000} s`);
    } catch (e) {
      for (const worker of workers) worker.terminate();
      for (const block of blocks) heap.release(block);
      throw e;
    }
    const pool = new Pool(heap, wasm, workers, blocks);
    for (const worker of workers) {
      worker.listen(
        () => {},
        (why) => pool.#noteDeath(why),
      );
      // Only now: while they start, the workers are what the process waits for; an idle pool must not keep it alive.
      worker.unref();
    }
    return pool;
  }

  /** Bytes the pool holds in wasm memory (its job and the workers' stacks), 0 once stopped. */
  get bytes(): number {
    return this.#stopped ? 0 : Math.ceil(POOL_JOB_BYTES / ALIGN) * ALIGN + (this.threads - 1) * STACK_BYTES;
  }

  /** Whether calls still go to the workers: false once `stop()` ran (`nn.dispose()`, or the call that found a worker dead). */
  get running(): boolean {
    return !this.#stopped;
  }

  /** Calls the workers took part in. */
  get jobs(): number {
    return this.#jobs;
  }

  /** Why the pool stopped, if a worker died. */
  get failure(): string | undefined {
    return this.#failure;
  }

  #noteDeath(why: string): void {
    if (this.#stopped) return;
    this.#failure ??= why;
  }

  /** @internal For tests: terminates worker `index` as a crash would, leaving the pool to notice. */
  crashWorker(index: number): void {
    this.#workers[index]!.terminate();
  }

  /** Terminates the workers and releases their memory (idempotent). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const worker of this.#workers) worker.terminate();
    for (const block of this.#blocks) this.#heap.release(block);
  }

  /**
   * `wasm` with `simdnet_dense`, `simdnet_qdense`, `simdnet_model_forward`, `simdnet_activate` and
   * `simdnet_rowwise` running on the pool when the work is large enough; every other call (and every
   * call once the pool is stopped) goes to `wasm` itself. Other kernels (training) can join the same
   * way: a `job_kind` of their own in crate/src/abi.rs, split in crate/src/pool.rs, wrapped here.
   */
  wrap(wasm: KernelExports): KernelExports {
    const { simdnet_model_forward: forward, simdnet_activate: activate, simdnet_rowwise: rowwise } = wasm;
    const memory = this.#heap.memory;
    /** A single dense layer of `format` whose kernel is `run`: a one-layer model job when large enough. */
    const layer =
      (format: number, run: KernelExports['simdnet_dense']): KernelExports['simdnet_dense'] =>
      (x, batch, inputs, outputs, packed, act, p0, p1, p2, slopes, y, scratch) => {
        this.#check();
        if (!this.#wakes(batch * inputs * outputs, WAKE_MIN_MADDS))
          return run(x, batch, inputs, outputs, packed, act, p0, p1, p2, slopes, y, scratch);
        const table = this.#job + POOL_JOB_OFFSETS.layer;
        writeModelLayer(memory, table, { packed, inputs, outputs, activation: act, params: [p0, p1, p2], slopes }, 0, 0, format);
        return this.#publish({ kind: PoolJobKind.model, table, layers: 1, x, batch, hiddenA: 0, hiddenB: 0, y, scratch });
      };
    return {
      ...wasm,
      memory,
      simdnet_dense: layer(WeightFormat.f32, wasm.simdnet_dense),
      simdnet_qdense: layer(WeightFormat.int8, wasm.simdnet_qdense),
      simdnet_model_forward: (table, layers, x, batch, hiddenA, hiddenB, y, scratch) => {
        this.#check();
        if (!this.#wakes(batch * this.#largestLayer(table, layers), WAKE_MIN_MADDS))
          return forward(table, layers, x, batch, hiddenA, hiddenB, y, scratch);
        return this.#publish({ kind: PoolJobKind.model, table, layers, x, batch, hiddenA, hiddenB, y, scratch });
      },
      simdnet_activate: (code, p0, p1, p2, x, n, y) => {
        this.#check();
        if (!this.#wakes(n, WAKE_MIN_FLOATS)) return activate(code, p0, p1, p2, x, n, y);
        const layer = this.#job + POOL_JOB_OFFSETS.layer;
        writeModelLayer(
          memory,
          layer,
          { packed: 0, inputs: 0, outputs: 0, activation: code, params: [p0, p1, p2], slopes: 0 },
          0,
          0,
          WeightFormat.f32,
        );
        return this.#publish({ kind: PoolJobKind.activate, table: 0, layers: 0, x, batch: n, hiddenA: 0, hiddenB: 0, y, scratch: 0 });
      },
      simdnet_rowwise: (code, x, rows, cols, y, scratch) => {
        this.#check();
        if (!splitsRowwise(code) || !this.#wakes(rows * cols, WAKE_MIN_FLOATS)) return rowwise(code, x, rows, cols, y, scratch);
        const layer = this.#job + POOL_JOB_OFFSETS.layer;
        writeModelLayer(
          memory,
          layer,
          { packed: 0, inputs: cols, outputs: 0, activation: code, params: [0, 0, 0], slopes: 0 },
          0,
          0,
          WeightFormat.f32,
        );
        return this.#publish({ kind: PoolJobKind.rowwise, table: 0, layers: 0, x, batch: rows, hiddenA: 0, hiddenB: 0, y, scratch: 0 });
      },
    };
  }

  /** The most multiply-adds per batch row of any layer of the model table at `table` (read on every call: a batch-1 path). */
  #largestLayer(table: number, layers: number): number {
    const stride = MODEL_LAYER_BYTES / 4;
    // One view for every call: a shared memory's views stay valid when it grows, only too short for what lies beyond.
    if (table / 4 + layers * stride > this.#table.length) this.#table = new Uint32Array(this.#heap.memory.buffer);
    let most = 0;
    for (let at = table / 4; at < table / 4 + layers * stride; at += stride) {
      most = Math.max(most, this.#table[at + TABLE_WORDS.inputs]! * this.#table[at + TABLE_WORDS.outputs]!);
    }
    return most;
  }

  #wakes(work: number, threshold: number): boolean {
    return !this.#stopped && work >= threshold;
  }

  /** After a worker died: the pool stops, and this call fails before touching memory (later ones run on one thread). */
  #check(): void {
    if (this.#stopped || this.#failure === undefined) return;
    this.stop();
    fail('WORKER_FAILED', `${this.#failure}; the pool is stopped and later calls run on one thread`);
  }

  #publish(job: PoolJob): number {
    writePoolJob(this.#heap.memory, this.#job, job);
    const words = this.#words;
    // Every thread passed the previous job's last barrier: the count is final, and this job's barriers count from it.
    words[POOL_JOB_OFFSETS.base / 4] = Atomics.load(words, WORDS.arrived);
    words[POOL_JOB_OFFSETS.nextTile / 4] = 0;
    this.#jobs++;
    Atomics.add(words, WORDS.generation, 1);
    Atomics.notify(words, WORDS.generation);
    const status = this.#run(this.#job, 0);
    // A worker that died before or during the job never arrives: the caller gave up waiting. The
    // event that reports its death cannot have come yet (this thread never left the call).
    if (status >>> 0 === STALLED) {
      this.#noteDeath('a worker stopped answering during a call');
      this.#check();
    }
    return status;
  }
}
