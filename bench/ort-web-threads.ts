/**
 * The child process of `simdnet bench --threads N` that runs onnxruntime-web alone on N threads (its
 * thread count is global to a process and fixed at its first session): runBench with the options
 * given as JSON in argv[2], its rows as JSON on stdout. A file, not `node -e`: onnxruntime-web's
 * workers inherit the process's flags, which `--input-type` may not be.
 */
import { type BenchOptions, runBench } from './suite.js';

const options = JSON.parse(process.argv[2] ?? '{}') as BenchOptions;
process.stdout.write(JSON.stringify((await runBench(options)).rows));
// onnxruntime-web's worker threads would keep the process alive.
process.exit(0);
