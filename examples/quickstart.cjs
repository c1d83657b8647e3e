const { init } = require('simdnet'); // CommonJS: Node >= 20.19 loads the ES module

init().then((nn) => {
  console.log(nn.variant, nn.activate('relu', new Float32Array([-1, 0.5, 2])));
});
