import { init } from 'simdnet';

const nn = await init(); // loads the fastest build this engine runs (relaxed SIMD, SIMD128 or scalar)

// A dense layer y = relu(x·W + b). The kernel is [inputDim × units], row-major, as Keras and TF.js store it.
// prettier-ignore
const kernel = new Float32Array([
  0.5, -1.0, // input 0 → units 0, 1
  0.25, 2.0, // input 1
  -0.75, 1.0, // input 2
]);
const bias = new Float32Array([0.1, -0.1]);
const layer = nn.dense({ inputDim: 3, units: 2, activation: 'relu', kernel, bias });
const x = new Float32Array([1, 2, 3, 4, 5, 6]); // a batch of 2 rows of 3 inputs
console.log(layer.apply(x, 2)); // Float32Array(4) [0, 5.9, 0, 11.9]: 2 rows × 2 units

// Activations and their derivatives, on your own arrays.
const logits = new Float32Array([2.0, 1.0, 0.1, -1.0, 0.5, 3.0]); // 2 rows of 3 scores
const probabilities = nn.activate('softmax', logits, { axisSize: 3 }); // each row sums to 1
const dy = new Float32Array(6).fill(1); // the gradient arriving from the next layer
const dx = nn.activateBackward('tanh', logits, dy); // dy · tanh′(x)
console.log(probabilities, dx);

// A Sequential model: one wasm call per predict. Weights are Glorot-uniform from a seed unless given.
const model = nn.sequential([
  { inputDim: 4, units: 8, activation: 'relu' },
  { units: 3, activation: 'softmax' },
]);
console.log(model.predict(new Float32Array([0.1, 0.2, 0.3, 0.4]), 1)); // three probabilities
console.log(model.summary());

// Save and load back (simdnet's format: a JSON document + float32 weights), bit for bit.
const { json, weights } = model.save();
const copy = await nn.loadModel({ json, weights });
console.log(copy.predict(new Float32Array([0.1, 0.2, 0.3, 0.4]), 1));
model.dispose(); // frees the wasm memory; `using model = ...` does it at the end of the scope
copy.dispose();
