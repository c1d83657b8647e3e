/**
 * The source of a pool worker, plain JavaScript that runs unchanged as a Node `worker_threads` worker
 * (`eval: true`, CommonJS) and as a Web Worker (Deno, Bun, browsers: from a `blob:` URL), so that no
 * file has to be found next to the bundle. It instantiates the module over the shared memory with
 * its own stack, says 'ready', then runs every job published on the job's `generation` word.
 */
export const WORKER_SOURCE = `
async function start({ module, memory, job, stackTop, thread }, post) {
  const { exports } = await WebAssembly.instantiate(module, { env: { memory } });
  exports.__stack_pointer.value = stackTop;
  const generation = new Int32Array(memory.buffer, job, 1);
  let seen = Atomics.load(generation, 0);
  post('ready');
  for (;;) {
    Atomics.wait(generation, 0, seen);
    seen = Atomics.load(generation, 0);
    exports.simdnet_pool_run(job, thread);
  }
}
// import(), not require: a Node eval worker is an ES module when its parent ran with --input-type=module.
// Node's parentPort wherever there is one: Bun's node:worker_threads workers also have a \`self\` that never
// receives their messages.
(async () => {
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  const port = isNode ? (await import('node:worker_threads')).parentPort : null;
  const post = (message) => (port ?? self).postMessage(message);
  const run = (init) => start(init, post).catch((e) => post({ error: String((e && e.stack) || e) }));
  if (port) port.once('message', run);
  else self.onmessage = (event) => { self.onmessage = null; run(event.data); };
})();
`;
