/** The playground page: loads simdnet's fastest build for this browser, then both panels. */
import { init } from '../../dist/ts/index.js';
import { activationSvg, setupActivationPanel } from './activation-panel.js';
import { TrainingPanel } from './training-panel.js';

function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  Object.assign(document.createElement('a'), { href: url, download: name }).click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const nn = await init();
document.getElementById('variant')!.textContent = `simdnet ${nn.variant} build`;
setupActivationPanel(nn);
const training = new TrainingPanel(nn);

document.getElementById('export-model')!.addEventListener('click', () => {
  const saved = training.save();
  if (!saved) return;
  // model.json names its weights file, model.bin: nn.loadModel('model.json') finds it beside.
  download('model.json', saved.json, 'application/json');
  download('model.bin', saved.weights.slice(), 'application/octet-stream');
});
document.getElementById('export-tfjs')!.addEventListener('click', () => {
  const exported = training.toTfjs();
  if (!exported) return;
  // tf.loadLayersModel('model.json') (with tfjs-node's file:// handler, or served beside it) reads both.
  download('model.json', JSON.stringify(exported.modelJson), 'application/json');
  download('model.weights.bin', exported.weightsBin.slice(), 'application/octet-stream');
});
document.getElementById('export-activation')!.addEventListener('click', () => download('activation.svg', activationSvg(), 'image/svg+xml'));
document.getElementById('export-boundary')!.addEventListener('click', () => {
  (document.getElementById('boundary') as HTMLCanvasElement).toBlob((png) => png && download('decision-boundary.png', png, 'image/png'));
});
// What simdnet holds in wasm memory (tensors, layers, models): flat while training runs, as training allocates
// only on its first step at a batch size.
const allocated = document.getElementById('allocated')!;
const showAllocated = () => {
  allocated.dataset.value = String(nn.allocatedBytes);
  allocated.textContent = `${nn.allocatedBytes.toLocaleString('en-US')} bytes in wasm memory`;
  requestAnimationFrame(showAllocated);
};
showAllocated();
document.body.dataset.ready = 'true';
