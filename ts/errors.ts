/** What went wrong, as a stable string a caller can switch on. */
export type ErrorCode =
  | 'SHAPE_MISMATCH'
  | 'DISPOSED'
  | 'UNKNOWN_ACTIVATION'
  | 'INVALID_ARGUMENT'
  | 'OUT_OF_MEMORY'
  | 'UNSUPPORTED_RUNTIME'
  /** A model file (simdnet, TF.js or ONNX) that is malformed, inconsistent, or names weights outside its folder. */
  | 'INVALID_MODEL'
  /** A file or URL that could not be read or fetched (the message names it). */
  | 'IO_ERROR'
  /** A worker of the thread pool died (the message says how); the call did nothing, and later ones run on one thread. */
  | 'WORKER_FAILED';

/** The one error class simdnet throws. Every check runs before any wasm memory is touched. */
export class SimdnetError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'SimdnetError';
    this.code = code;
  }
}

export function fail(code: ErrorCode, message: string): never {
  throw new SimdnetError(code, message);
}

/** A non-negative safe integer, or an INVALID_ARGUMENT error naming `what`. */
export function checkCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail('INVALID_ARGUMENT', `${what} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/** Rejects a key of `options` that is not in `known` (a misspelt option would otherwise be silently ignored). */
export function checkKeys(options: object, known: readonly string[], what: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) fail('INVALID_ARGUMENT', `${what} takes no option '${key}'; its options: ${known.join(', ')}`);
  }
}
