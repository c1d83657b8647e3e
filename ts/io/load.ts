/**
 * `loadModel`'s reading side: what a source is (simdnet's format, a TF.js Layers model, ONNX), read
 * through the confined, bounded reader, parsed and checked into layer specs. Nothing here touches
 * wasm memory: a model is built from the specs only once the whole file has been accepted.
 */
import { fail } from '../errors.js';
import type { Quantization } from '../int8.js';
import type { LayerSpec } from '../sequential.js';
import { type SavedModel, parseJson, parseModel, planModel } from './format.js';
import { parseOnnx } from './onnx.js';
import { type LoadModelOptions, allowsExternalWeights, readBytes, readWeightFiles, toUrl } from './read.js';
import { type TfjsArtifacts, isTfjsDocument, parseTfjs, tfjsManifest } from './tfjs.js';

/** What `loadModel` takes: a saved model, TF.js artifacts, ONNX bytes, or a path or URL of any of them. */
export type ModelSource = SavedModel | TfjsArtifacts | Uint8Array | string | URL;

/** The layer specs of a model source, fully checked (INVALID_MODEL, IO_ERROR, INVALID_ARGUMENT), quantized as the options ask. */
export async function readModel(source: ModelSource, options?: LoadModelOptions): Promise<LayerSpec[]> {
  const quantize = options?.quantize;
  const specs = await readSpecs(source, allowsExternalWeights(options), quantize);
  return quantize === undefined ? specs : specs.map((spec) => ({ quantize, ...spec }));
}

/** The layer specs of a source; a TF.js model's uint8 kernels are read for `quantize` (parseTfjs). */
async function readSpecs(source: ModelSource, allowExternal: boolean, quantize?: Quantization): Promise<LayerSpec[]> {
  if (source instanceof Uint8Array) return parseOnnx(source);
  if (typeof source === 'string' || source instanceof URL) {
    const url = toUrl(source);
    const bytes = await readBytes(url, { what: 'model file' });
    if (url.pathname.endsWith('.onnx')) return parseOnnx(bytes);
    const doc = parseJson(new TextDecoder().decode(bytes));
    if (isTfjsDocument(doc)) {
      const { weightSpecs, groups } = tfjsManifest(doc);
      const weightData = await readWeightFiles(groups, url, allowExternal);
      return parseTfjs({ modelTopology: doc.modelTopology, weightSpecs, weightData }, quantize);
    }
    const plan = planModel(doc);
    return parseModel(plan, await readWeightFiles([{ paths: [plan.weightsPath], byteLength: plan.byteLength }], url, allowExternal));
  }
  if (isTfjsDocument(source)) return parseTfjs(source as TfjsArtifacts, quantize);
  const saved = source as Partial<SavedModel> | null;
  if (saved === null || typeof saved !== 'object' || typeof saved.json !== 'string' || !(saved.weights instanceof Uint8Array)) {
    fail('INVALID_ARGUMENT', 'loadModel() needs a path or URL, or { json: string, weights: Uint8Array }');
  }
  return parseModel(planModel(parseJson(saved.json)), saved.weights);
}
