import { type Sequential, SimdnetError, init } from 'simdnet';

const nn = await init();
{
  // `using` disposes at the end of the block (TypeScript ≥ 5.2, lib "esnext.disposable").
  using model: Sequential = nn.sequential([{ inputDim: 2, units: 1, activation: 'sigmoid' }]);
  const y: Float32Array = model.predict(new Float32Array([0.5, -0.5]), 1);
  console.log(y[0]);
}
try {
  nn.dense({ inputDim: -1, units: 2 });
} catch (e) {
  if (e instanceof SimdnetError) console.log(e.code); // 'INVALID_ARGUMENT'
}
