import type { Logs } from './metrics.js';

/** Where progress goes: a writable stream (Node's stdout), or console lines elsewhere. */
interface Output {
  readonly isTTY: boolean;
  write(text: string): void;
}

function defaultOutput(): Output {
  const stdout = (globalThis as { process?: { stdout?: { isTTY?: boolean; write(s: string): unknown } } }).process?.stdout;
  if (stdout) return { isTTY: stdout.isTTY === true, write: (s) => void stdout.write(s) };
  return { isTTY: false, write: (s) => console.log(s.replace(/\n$/, '')) };
}

const BAR_WIDTH = 20;

/** `loss: 0.1234 - accuracy: 0.5000`, Keras' order: the logs as they were filled. */
function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .map(([k, v]) => `${k}: ${v.toFixed(4)}`)
    .join(' - ');
}

/**
 * Keras-style progress of one epoch: verbose 1 on a terminal redraws a bar after every batch;
 * otherwise (verbose 2, or output that is not a terminal) one line per epoch; verbose 0 nothing.
 */
export class Progress {
  readonly #out: Output;
  readonly #bar: boolean;
  readonly #steps: number;
  readonly #label: string;
  readonly #start = performance.now();
  readonly #silent: boolean;

  constructor(epoch: number, epochs: number, steps: number, verbose: number, out: Output = defaultOutput()) {
    this.#out = out;
    this.#silent = verbose === 0;
    this.#bar = verbose === 1 && out.isTTY;
    this.#steps = steps;
    this.#label = `Epoch ${epoch + 1}/${epochs}`;
    if (this.#bar) out.write(`${this.#label}\n`);
  }

  #timing(step: number): string {
    const ms = performance.now() - this.#start;
    return `${Math.round(ms / 1000)}s ${Math.round(ms / Math.max(step, 1))}ms/step`;
  }

  batch(step: number, logs: Logs): void {
    if (!this.#bar) return;
    const filled = Math.round((BAR_WIDTH * step) / this.#steps);
    const bar = '━'.repeat(filled) + ' '.repeat(BAR_WIDTH - filled);
    this.#out.write(`\r${step}/${this.#steps} ${bar} ${this.#timing(step)} - ${formatLogs(logs)}\x1b[K`);
  }

  end(logs: Logs): void {
    if (this.#silent) return;
    if (this.#bar) {
      this.batch(this.#steps, logs);
      this.#out.write('\n');
    } else {
      this.#out.write(`${this.#label} - ${this.#steps}/${this.#steps} - ${this.#timing(this.#steps)} - ${formatLogs(logs)}\n`);
    }
  }

  /** A diagnostics warning, on its own line. */
  warn(message: string): void {
    if (!this.#silent) this.#out.write(`WARNING: ${message}\n`);
  }
}
