/**
 * The training panel: controls → a TrainingSession, trained one `fit` epoch per slice from
 * requestAnimationFrame (the page stays responsive), and after each slice the decision boundary,
 * the loss curves, the metrics and the network diagram with its dead and saturated units.
 */
import type { ActivationName, LayerDiagnostics, Simdnet } from '../../dist/ts/index.js';
import { DATASETS, DOMAIN, type DatasetName, type DatasetSpec, type Split, generate } from './datasets.js';
import { PRESETS, type Preset } from './presets.js';
import { type EpochReport, type NetworkSpec, TrainingSession, type TrainingSpec, type UnitState } from './session.js';
import { type Attributes, axes, frame, polyline, svg } from './svg.js';

/** The activations offered for hidden layers. */
const HIDDEN_ACTIVATIONS: readonly ActivationName[] = [
  'relu',
  'leaky_relu',
  'relu6',
  'elu',
  'selu',
  'gelu',
  'silu',
  'mish',
  'softplus',
  'sigmoid',
  'tanh',
  'hard_sigmoid',
  'softsign',
  'linear',
];
const CLASS_COLORS: readonly [number, number, number][] = [
  [242, 142, 43],
  [47, 127, 193],
  [89, 161, 79],
];
/** Cells per side of the decision-boundary grid: one predict of GRID² points per update. */
const GRID = 64;
/** A unit counts as saturated in the diagram when most of its outputs are. */
const SATURATED_UNIT = 0.5;
const MAX_DRAWN_UNITS = 12;

function element<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}
const value = (id: string) => element<HTMLInputElement | HTMLSelectElement>(id).value;
const rgb = ([r, g, b]: readonly number[]) => `rgb(${r}, ${g}, ${b})`;

function setValue(id: string, v: string | number): void {
  element<HTMLInputElement | HTMLSelectElement>(id).value = String(v);
}

export class TrainingPanel {
  readonly #nn: Simdnet;
  #session: TrainingSession | null = null;
  #running = false;
  /** Every change of the session runs in this chain, one at a time (a slice never overlaps a reset). */
  #queue: Promise<void> = Promise.resolve();
  #sliceInFlight = false;
  readonly #grid = new Float32Array(2 * GRID * GRID);
  #probabilities = new Float32Array(0);
  #updates = 0;
  #updatesSince = performance.now();

  constructor(nn: Simdnet) {
    this.#nn = nn;
    for (let row = 0; row < GRID; row++) {
      for (let col = 0; col < GRID; col++) {
        this.#grid[2 * (row * GRID + col)] = -DOMAIN + (2 * DOMAIN * (col + 0.5)) / GRID;
        this.#grid[2 * (row * GRID + col) + 1] = DOMAIN - (2 * DOMAIN * (row + 0.5)) / GRID;
      }
    }
    this.#setupControls();
    this.#enqueue(() => this.#reset());
    const frameLoop = () => {
      if (this.#running && !this.#sliceInFlight) {
        this.#sliceInFlight = true;
        void this.#enqueue(() => this.#slice()).then(() => (this.#sliceInFlight = false));
      }
      requestAnimationFrame(frameLoop);
    };
    requestAnimationFrame(frameLoop);
  }

  #enqueue(task: () => unknown): Promise<void> {
    this.#queue = this.#queue.then(task).then(
      () => void (element('train-error').textContent = ''),
      (e: unknown) => {
        this.#setRunning(false);
        element('train-error').textContent = e instanceof Error ? e.message : String(e);
      },
    );
    return this.#queue;
  }

  #setupControls(): void {
    element<HTMLSelectElement>('data-name').append(...Object.entries(DATASETS).map(([name, d]) => new Option(d.title, name)));
    element('layer-add').addEventListener('click', () => {
      this.#addLayerRow({ units: 4, activation: 'relu' });
      this.#enqueue(() => this.#reset());
    });
    for (const id of ['data-name', 'data-classes', 'data-noise', 'data-train', 'data-samples', 'seed', 'output']) {
      element(id).addEventListener('input', () => this.#enqueue(() => this.#reset()));
    }
    for (const id of ['optimizer', 'learning-rate', 'batch-size']) {
      element(id).addEventListener('input', () => this.#enqueue(() => this.#session?.recompile(this.#training())));
    }
    element('show-test').addEventListener('input', () => this.#render());
    element('run').addEventListener('click', () => this.#setRunning(!this.#running));
    element('step').addEventListener('click', () => this.#enqueue(() => this.#slice(1)));
    element('reset').addEventListener('click', () => this.#enqueue(() => this.#reset()));
    const presets = element('presets');
    for (const preset of PRESETS) {
      const button = document.createElement('button');
      Object.assign(button, { textContent: preset.title, title: preset.note });
      button.dataset.preset = preset.id;
      button.addEventListener('click', () => this.#enqueue(() => this.#applyPreset(preset)));
      presets.append(button);
    }
    for (let i = 0; i < 2; i++) this.#addLayerRow({ units: 8, activation: 'relu' });
  }

  #addLayerRow({ units, activation }: { units: number; activation: ActivationName }): void {
    const row = document.createElement('li');
    const count = Object.assign(document.createElement('input'), { type: 'number', min: '1', max: '32', value: String(units) });
    count.className = 'units';
    const select = document.createElement('select');
    select.className = 'activation';
    select.append(...HIDDEN_ACTIVATIONS.map((name) => new Option(name, name, name === activation, name === activation)));
    const remove = Object.assign(document.createElement('button'), { textContent: '✕', title: 'remove this layer' });
    remove.addEventListener('click', () => {
      row.remove();
      this.#enqueue(() => this.#reset());
    });
    for (const input of [count, select]) input.addEventListener('input', () => this.#enqueue(() => this.#reset()));
    row.append(count, ' units, ', select, remove);
    element('layers').append(row);
  }

  #dataSpec(): DatasetSpec {
    const name = value('data-name') as DatasetName;
    const classes = element<HTMLSelectElement>('data-classes');
    // Moons, circles and XOR are binary by nature.
    classes.disabled = DATASETS[name].classes.length === 1;
    return {
      name,
      classes: classes.disabled ? 2 : Number(classes.value),
      noise: Number(value('data-noise')),
      samples: Number(value('data-samples')),
      trainFraction: Number(value('data-train')),
      seed: Number(value('seed')),
    };
  }

  #network(): NetworkSpec {
    const hidden = [...element('layers').querySelectorAll('li')].map((row) => ({
      units: Number(row.querySelector<HTMLInputElement>('.units')!.value),
      activation: row.querySelector<HTMLSelectElement>('.activation')!.value as ActivationName,
    }));
    return { hidden, output: value('output') as NetworkSpec['output'] };
  }

  #training(): TrainingSpec {
    return {
      optimizer: value('optimizer') as TrainingSpec['optimizer'],
      learningRate: Number(value('learning-rate')),
      batchSize: Number(value('batch-size')),
    };
  }

  /** A new session from the controls (new data, new weights); the old one is disposed. */
  #reset(): void {
    this.#setRunning(false);
    const data = this.#dataSpec();
    element('data-noise-value').textContent = data.noise.toFixed(2);
    element('data-train-value').textContent = `${Math.round(100 * data.trainFraction)}%`;
    const split = generate(data);
    const network = this.#network();
    // One sigmoid unit tells two classes apart, no more.
    element<HTMLSelectElement>('output').querySelector<HTMLOptionElement>('option[value="sigmoid"]')!.disabled = split.classes > 2;
    if (split.classes > 2) setValue('output', 'softmax');
    // Built before the old one goes: if simdnet rejects the network (say, a layer of 0 units), the old one stays.
    const session = new TrainingSession(this.#nn, split, network, this.#training(), data.seed);
    this.#session?.dispose();
    this.#session = session;
    this.#probabilities = new Float32Array(GRID * GRID * Math.max(2, split.classes));
    this.#render();
  }

  #applyPreset(preset: Preset): void {
    setValue('data-name', preset.data.name);
    setValue('data-classes', preset.data.classes);
    setValue('data-noise', preset.data.noise);
    setValue('output', preset.network.output);
    setValue('optimizer', preset.training.optimizer);
    setValue('learning-rate', preset.training.learningRate);
    setValue('batch-size', preset.training.batchSize);
    element('layers').replaceChildren();
    for (const layer of preset.network.hidden) this.#addLayerRow(layer);
    element('preset-note').textContent = `${preset.title}: ${preset.note}`;
    this.#reset();
  }

  #setRunning(running: boolean): void {
    this.#running = running;
    element('run').textContent = running ? 'Pause' : 'Start';
  }

  /** `epochs` epochs (default: the speed control's), then one render; pauses when the loss diverges. */
  async #slice(epochs = Number(value('speed'))): Promise<void> {
    const session = this.#session;
    if (!session) return;
    for (let i = 0; i < epochs; i++) {
      const { logs } = await session.trainEpoch();
      // Cross-entropy is never negative: a negative loss comes from NaN outputs (simdnet reports their clipped
      // binary cross-entropy as a finite negative number), an infinite one from overflow.
      if (!(logs.loss! >= 0 && logs.loss! < Infinity)) {
        this.#setRunning(false);
        element('train-warning').textContent =
          'Training diverged (the weights overflowed to NaN or ∞): lower the learning rate, then Reset.';
        break;
      }
    }
    this.#render();
  }

  #render(): void {
    const session = this.#session;
    if (!session) return;
    const last = session.reports.at(-1);
    if (!last) element('train-warning').textContent = '';
    this.#drawBoundary(session);
    this.#drawLosses(session.reports);
    this.#drawNetwork(session, session.unitStates(), last);
    this.#showStats(session.epoch, last);
    this.#countUpdate();
  }

  /** Updates per second while running, over the last second or more. */
  #countUpdate(): void {
    const now = performance.now();
    if (!this.#running) {
      [this.#updates, this.#updatesSince] = [0, now];
      element('updates').textContent = '';
      return;
    }
    this.#updates++;
    if (now - this.#updatesSince >= 1000) {
      element('updates').textContent = `${Math.round((1000 * this.#updates) / (now - this.#updatesSince))} updates/s`;
      [this.#updates, this.#updatesSince] = [0, now];
    }
  }

  /** The class probabilities over the grid as a heat map (one predict), the points on top. */
  #drawBoundary(session: TrainingSession): void {
    const canvas = element<HTMLCanvasElement>('boundary');
    const context = canvas.getContext('2d')!;
    const classes = Math.max(2, session.split.classes);
    const p = session.probabilities(this.#grid, this.#probabilities);
    const image = new ImageData(GRID, GRID);
    for (let cell = 0; cell < GRID * GRID; cell++) {
      const mixed = [0, 0, 0];
      for (let c = 0; c < classes; c++) for (let k = 0; k < 3; k++) mixed[k]! += p[cell * classes + c]! * CLASS_COLORS[c]![k]!;
      // Pastel, so that the points stand out; a diverged model's NaN shows as grey.
      for (let k = 0; k < 3; k++) image.data[4 * cell + k] = Number.isFinite(mixed[k]) ? 255 - 0.55 * (255 - mixed[k]!) : 200;
      image.data[4 * cell + 3] = 255;
    }
    const small = new OffscreenCanvas(GRID, GRID);
    small.getContext('2d')!.putImageData(image, 0, 0);
    context.imageSmoothingEnabled = true;
    context.drawImage(small, 0, 0, canvas.width, canvas.height);
    const toPixel = (v: number, size: number) => ((v + DOMAIN) / (2 * DOMAIN)) * size;
    context.strokeStyle = 'rgba(0, 0, 0, 0.25)';
    context.beginPath();
    context.moveTo(canvas.width / 2, 0);
    context.lineTo(canvas.width / 2, canvas.height);
    context.moveTo(0, canvas.height / 2);
    context.lineTo(canvas.width, canvas.height / 2);
    context.stroke();
    const { train, test } = session.split;
    const drawPoints = (points: Split['train'], outline: string) => {
      for (let i = 0; i < points.n; i++) {
        context.beginPath();
        const [x, y] = [toPixel(points.x[2 * i]!, canvas.width), canvas.height - toPixel(points.x[2 * i + 1]!, canvas.height)];
        context.arc(x, y, 3.5, 0, 2 * Math.PI);
        context.fillStyle = rgb(CLASS_COLORS[points.labels[i]!]!);
        context.fill();
        context.strokeStyle = outline;
        context.stroke();
      }
    };
    drawPoints(train, '#fff');
    if (element<HTMLInputElement>('show-test').checked) drawPoints(test, '#000');
  }

  #drawLosses(reports: readonly EpochReport[]): void {
    const root = element('loss-chart').querySelector('svg')!;
    root.replaceChildren();
    const [width, height] = [380, 170];
    const epochs = reports.map((r) => r.epoch);
    const [train, test] = [reports.map((r) => r.logs.loss!), reports.map((r) => r.logs.val_loss!)];
    const finite = [...train, ...test].filter(Number.isFinite);
    const plotFrame = frame(width, height, [0, Math.max(10, epochs.length)], [0, Math.max(0.1, ...finite) * 1.05]);
    axes(root, plotFrame, 'epoch', 'loss');
    const curves = svg('g', { fill: 'none', 'stroke-width': 1.5 }, root);
    svg('path', { d: polyline(plotFrame, epochs, train), stroke: '#1f5fbf' }, curves);
    svg('path', { d: polyline(plotFrame, epochs, test), stroke: '#e8730c', 'stroke-dasharray': '5 3' }, curves);
    const legend = svg('g', { 'font-size': 11 }, root);
    svg('text', { x: plotFrame.right - 110, y: plotFrame.top + 14, fill: '#1f5fbf' }, legend).textContent = '— train';
    svg('text', { x: plotFrame.right - 60, y: plotFrame.top + 14, fill: '#e8730c' }, legend).textContent = '- - test';
  }

  /**
   * Units as circles, layer by layer, joined by their weights (blue positive, orange negative, opacity by
   * size); dead units grey, saturated ones ringed red; under each layer its diagnostics of the last epoch.
   */
  #drawNetwork(session: TrainingSession, states: UnitState[][], last: EpochReport | undefined): void {
    const root = element('network').querySelector('svg')!;
    root.replaceChildren();
    const { hidden, output } = session.network;
    const widths = [2, ...hidden.map((l) => l.units), output === 'sigmoid' ? 1 : session.split.classes];
    const [width, height, top] = [380, 250, 16];
    const bottom = height - 54;
    const column = (i: number) => 24 + ((width - 48) * i) / (widths.length - 1);
    const drawn = widths.map((w) => Math.min(w, MAX_DRAWN_UNITS));
    const row = (i: number, j: number) => top + ((bottom - top) * (j + 0.5)) / drawn[i]!;
    const weights = session.model.getWeights();
    const edges = svg('g', { class: 'edges' }, root);
    for (let i = 0; i + 1 < widths.length; i++) {
      const kernel = weights[2 * i]!;
      const largest = kernel.reduce((m, w) => Math.max(m, Math.abs(w)), 1e-12);
      for (let a = 0; a < drawn[i]!; a++) {
        for (let b = 0; b < drawn[i + 1]!; b++) {
          const w = kernel[a * widths[i + 1]! + b]!;
          const size = Math.abs(w) / largest;
          svg(
            'line',
            {
              x1: column(i),
              y1: row(i, a),
              x2: column(i + 1),
              y2: row(i + 1, b),
              stroke: w >= 0 ? '#2f7fc1' : '#f28e2b',
              'stroke-width': 0.5 + 2 * size,
              'stroke-opacity': 0.15 + 0.7 * size,
            },
            edges,
          );
        }
      }
    }
    const text = (x: number, y: number, content: string, attributes = {}) =>
      (svg('text', { x, y, 'text-anchor': 'middle', 'font-size': 10, fill: '#333', ...attributes }, root).textContent = content);
    widths.forEach((w, i) => {
      const d = i >= 1 ? last?.layers[i - 1] : undefined;
      const layer = svg('g', { class: 'layer', 'data-layer': i }, root);
      // The diagnostics in full precision, for whoever reads the page's DOM (the tests do).
      const figures = { gradientNorm: d?.gradientNorm, deadFraction: d?.deadFraction, saturatedFraction: d?.saturatedFraction };
      for (const [key, figure] of Object.entries(figures)) if (figure !== undefined) layer.dataset[key] = String(figure);
      for (let j = 0; j < drawn[i]!; j++) {
        const state = i >= 1 && i <= hidden.length ? states[i - 1]![j]! : undefined;
        const saturated = (state?.saturated ?? 0) > SATURATED_UNIT;
        const look: Attributes = state?.dead
          ? { class: 'unit dead', fill: '#c8c8c8', stroke: '#999' }
          : saturated
            ? { class: 'unit saturated', fill: '#fff', stroke: '#d62728', 'stroke-width': 2.5 }
            : { class: 'unit', fill: '#fff', stroke: '#333' };
        svg('circle', { cx: column(i), cy: row(i, j), r: 6, ...look }, layer);
      }
      if (w > drawn[i]!) text(column(i), bottom + 10, `+${w - drawn[i]!}`);
      const name = i === 0 ? 'input' : i <= hidden.length ? hidden[i - 1]!.activation : output;
      text(column(i), bottom + 22, name, { 'font-weight': 'bold' });
      // The input column names the rows of figures under the other columns.
      if (i === 0 && last) {
        for (const [title, y] of [
          ['dead / sat', 34],
          ['‖∇‖', 46],
        ] as const)
          text(column(0), bottom + y, title, { fill: '#666' });
      }
      const percent = (fraction: number) => `${Math.round(100 * fraction)}%`;
      if (d?.deadFraction !== undefined) text(column(i), bottom + 34, percent(d.deadFraction), { fill: '#666' });
      if (d?.saturatedFraction !== undefined) text(column(i), bottom + 34, percent(d.saturatedFraction), { fill: '#d62728' });
      if (d) text(column(i), bottom + 46, d.gradientNorm.toExponential(0), { fill: '#666' });
    });
  }

  #showStats(epoch: number, last: EpochReport | undefined): void {
    element('epoch').textContent = String(epoch);
    const shown: [string, string][] = [
      ['train-loss', 'loss'],
      ['test-loss', 'val_loss'],
      ['train-accuracy', 'accuracy'],
      ['test-accuracy', 'val_accuracy'],
      ['train-f1', 'f1'],
      ['test-f1', 'val_f1'],
    ];
    for (const [id, key] of shown) {
      const v = last?.logs[key];
      const cell = element(id);
      cell.dataset.value = v === undefined ? '' : String(v);
      cell.textContent = v === undefined ? '–' : v.toFixed(3);
    }
    // The largest dead and saturated fractions of any hidden layer, at a glance (and for the tests). The output
    // layer's saturation is left out: a confident sigmoid output is saturated, harmlessly, as its gradient
    // with cross-entropy skips f′.
    const layers = last?.layers.slice(0, -1) ?? [];
    const fractions: [string, (l: LayerDiagnostics) => number | undefined][] = [
      ['max-dead', (l) => l.deadFraction],
      ['max-saturated', (l) => l.saturatedFraction],
    ];
    for (const [id, of] of fractions) {
      const largest = Math.max(0, ...layers.map((l) => of(l) ?? 0));
      element(id).dataset.value = String(largest);
      element(id).textContent = `${Math.round(100 * largest)}%`;
    }
  }

  /** The current model in simdnet's format (`model.save()`), or null before the first reset. */
  save(): ReturnType<TrainingSession['model']['save']> | null {
    return this.#session?.model.save() ?? null;
  }

  /** The current model as TF.js Layers files (`model.toTfjs()`), or null before the first reset. */
  toTfjs(): ReturnType<TrainingSession['model']['toTfjs']> | null {
    return this.#session?.model.toTfjs() ?? null;
  }
}
