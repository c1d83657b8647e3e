// A `.wasm` import is a compiled module where the platform compiles it (workerd).
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
