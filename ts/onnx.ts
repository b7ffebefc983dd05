// latentkit/onnx: a model's inference graph as ONNX (opset 17), written through onnx-proto's
// protobufjs classes and kept out of the core bundle. It reads models only through the public API,
// so it shares the main entry's WebAssembly instance.
import onnxProto from 'onnx-proto';
import { type ActivationSpec, Autoencoder, Classifier, GAN, LatentkitError, type OnnxBuilder, SemiSupervisedGAN, SemiSupervisedVAE, Stack, VAE } from 'latentkit';

const { onnx } = onnxProto;

/** Which network of a model to export. */
export type OnnxPart = 'encoder' | 'decoder' | 'autoencoder' | 'generator' | 'discriminator' | 'classifier';

export interface OnnxOptions {
  /** Default: the model's whole inference path (a stack; the autoencoder's reconstruction; the GAN's generator; the VAE's decoder; the classifier; a semi-supervised GAN's or VAE's classifier). */
  part?: OnnxPart;
  /** The graph's name in the file (default `latentkit-<part>`). */
  name?: string;
}

export const ONNX_OPSET = 17;
// ONNX 1.12's IR version, the first with opset 17; older runtimes refuse newer IR versions.
const IR_VERSION = 8;

type Model = Stack | Autoencoder | GAN | Classifier | VAE | SemiSupervisedGAN | SemiSupervisedVAE;

/** What one export computes: the stacks in order, what comes after the last, and the inputs. */
interface Plan {
  stacks: Stack[];
  /** A conditional network's classes: a second input `labels` (int64 [batch]) joined one-hot after the first. */
  conditions: number;
  input: string;
  /** Each output from the last stack's: as is, through σ or softmax, or columns [from, to). */
  outputs: { name: string; op: 'identity' | 'sigmoid' | 'softmax' | 'columns'; from?: number; to?: number }[];
}

const PARTS: Record<string, OnnxPart[]> = {
  autoencoder: ['autoencoder', 'encoder', 'decoder'],
  GAN: ['generator', 'discriminator'],
  classifier: ['classifier'],
  VAE: ['decoder', 'encoder'],
  'semi-supervised GAN': ['classifier', 'generator'],
  'semi-supervised VAE': ['classifier'],
};

function plan(model: Model, part: OnnxPart | undefined): Plan {
  const refuse = (kind: string) => {
    throw new LatentkitError(`toOnnx: this ${kind} has no part ${JSON.stringify(part)}; its parts are ${PARTS[kind]!.join(', ')}`);
  };
  if (model instanceof Autoencoder) {
    const p = part ?? 'autoencoder';
    // decode and reconstruct return probabilities for a bce-with-logits autoencoder; so does the graph.
    const decoded = model.lossName === 'bce-with-logits' ? 'sigmoid' : 'identity';
    if (p === 'encoder') return { stacks: [model.encoder], conditions: 0, input: 'x', outputs: [{ name: 'code', op: 'identity' }] };
    if (p === 'decoder') return { stacks: [model.decoder], conditions: 0, input: 'code', outputs: [{ name: 'reconstruction', op: decoded }] };
    if (p === 'autoencoder') return { stacks: [model.encoder, model.decoder], conditions: 0, input: 'x', outputs: [{ name: 'reconstruction', op: decoded }] };
    return refuse('autoencoder');
  }
  if (model instanceof GAN) {
    const p = part ?? 'generator';
    // Samples come from the moving average when the GAN keeps one (as gan.sample does).
    if (p === 'generator') return { stacks: [model.generatorEma ?? model.generator], conditions: model.conditions, input: 'z', outputs: [{ name: 'sample', op: 'identity' }] };
    if (p === 'discriminator') return { stacks: [model.discriminator], conditions: model.conditions, input: 'x', outputs: [{ name: 'logit', op: 'identity' }] };
    return refuse('GAN');
  }
  if (model instanceof VAE) {
    const p = part ?? 'decoder';
    const L = model.latentSize;
    const f = model.inputSize;
    if (p === 'encoder') {
      return { stacks: [model.encoder], conditions: model.conditions, input: 'x', outputs: [{ name: 'mean', op: 'columns', from: 0, to: L }, { name: 'log_variance', op: 'columns', from: L, to: 2 * L }] };
    }
    if (p === 'decoder') {
      // E[x|z], as vae.decode: Bernoulli probabilities, or the Gaussian's means.
      const lik = model.likelihood;
      const out = lik === 'bernoulli' ? { name: 'mean', op: 'sigmoid' as const } : { name: 'mean', op: 'columns' as const, from: 0, to: f };
      return { stacks: [model.decoder], conditions: model.conditions, input: 'z', outputs: [out] };
    }
    return refuse('VAE');
  }
  if (model instanceof SemiSupervisedGAN) {
    // The discriminator as the classifier it is: its K logits (the generated class's, fixed at 0, left out),
    // from its moving average when the model keeps one (as classify does).
    const p = part ?? 'classifier';
    if (p === 'classifier') return { stacks: [...model.classifierStacks()], conditions: 0, input: 'x', outputs: [{ name: 'logits', op: 'identity' }, { name: 'probabilities', op: 'softmax' }] };
    if (p === 'generator') return { stacks: [model.generator], conditions: 0, input: 'z', outputs: [{ name: 'sample', op: 'identity' }] };
    return refuse('semi-supervised GAN');
  }
  if (model instanceof SemiSupervisedVAE) {
    // q(y|x), the model's classifier (its moving average when the model keeps one, as classify reads).
    if ((part ?? 'classifier') !== 'classifier') return refuse('semi-supervised VAE');
    return { stacks: [...model.classifierStacks()], conditions: 0, input: 'x', outputs: [{ name: 'logits', op: 'identity' }, { name: 'probabilities', op: 'softmax' }] };
  }
  if (model instanceof Classifier) {
    if ((part ?? 'classifier') !== 'classifier') return refuse('classifier');
    return { stacks: [...model.body, model.head], conditions: 0, input: 'x', outputs: [{ name: 'logits', op: 'identity' }, { name: 'probabilities', op: 'softmax' }] };
  }
  if (model instanceof Stack) {
    if (part !== undefined) throw new LatentkitError(`toOnnx: a lone stack has no parts; got part ${JSON.stringify(part)}`);
    return { stacks: [model], conditions: 0, input: 'x', outputs: [{ name: 'y', op: 'identity' }] };
  }
  throw new LatentkitError(`toOnnx: expected a Stack, Autoencoder, GAN, VAE, Classifier, SemiSupervisedGAN or SemiSupervisedVAE, got ${(model as object)?.constructor?.name ?? typeof model}`);
}

/** The ONNX node of an activation, or null for linear; an activation ONNX lacks is refused by name. */
export function onnxActivation(spec: ActivationSpec, input: string, output: string): InstanceType<typeof onnx.NodeProto> | null {
  const name = typeof spec === 'string' ? spec : spec.type;
  switch (name) {
    case 'linear':
      return null;
    case 'tanh':
      return onnx.NodeProto.create({ opType: 'Tanh', input: [input], output: [output] });
    case 'sigmoid':
      return onnx.NodeProto.create({ opType: 'Sigmoid', input: [input], output: [output] });
    case 'relu':
      return onnx.NodeProto.create({ opType: 'Relu', input: [input], output: [output] });
    case 'softplus':
      return onnx.NodeProto.create({ opType: 'Softplus', input: [input], output: [output] });
    case 'leaky-relu': {
      const alpha = typeof spec === 'string' ? 0.01 : spec.alpha;
      return onnx.NodeProto.create({ opType: 'LeakyRelu', input: [input], output: [output], attribute: [floatAttribute('alpha', alpha)] });
    }
    default:
      throw new LatentkitError(`toOnnx: ONNX has no operator for the activation ${JSON.stringify(spec)}`);
  }
}

function floatAttribute(name: string, f: number) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f });
}

function intAttribute(name: string, i: number) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i });
}

function floatTensor(name: string, dims: number[], values: Float32Array) {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes });
}

function intsAttribute(name: string, ints: number[]) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });
}

function int64Tensor(name: string, dims: number[], values: number[]) {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: values });
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: onnx.TensorShapeProto.create({ dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === 'string' ? { dimParam: d } : { dimValue: d })) }),
      }),
    }),
  });
}

/**
 * The bytes of an ONNX model (opset 17) of one part of `model`, inputs and outputs float32
 * `[batch, features]` with a free batch size: each layer's node (`Gemm`, `Conv`, `ConvTranspose`,
 * `BatchNormalization` with the running statistics, `Reshape`; images NCHW inside) and the
 * activations' operators; dropout and Gaussian noise are left out (inference). A conditional GAN's part takes a second input `labels`
 * (int64 `[batch]`), joined one-hot after `z` or `x` as in training. Outputs equal latentkit's:
 * `encode`, `decode`, `reconstruct`, `sample` (the moving average when kept), the discriminator's
 * logit, a classifier's (and a semi-supervised GAN's or VAE's) `logits` and `probabilities`, a VAE encoder's `mean` and `log_variance`
 * of q(z|x) and its decoder's E[x|z] (`mean`).
 */
export function toOnnx(model: Model, opts: OnnxOptions = {}): Uint8Array {
  if (typeof opts !== 'object' || opts === null) throw new LatentkitError('toOnnx: options must be an object');
  for (const k of Object.keys(opts)) if (k !== 'part' && k !== 'name') throw new LatentkitError(`toOnnx: unknown option '${k}'; expected part, name`);
  const p = plan(model, opts.part);
  const nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  const initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  const first = p.stacks[0]!;
  const inputWidth = first.sizes[0]! - p.conditions;
  const inputs = [valueInfo(p.input, onnx.TensorProto.DataType.FLOAT, ['batch', inputWidth])];
  let current = p.input;
  if (p.conditions > 0) {
    inputs.push(valueInfo('labels', onnx.TensorProto.DataType.INT64, ['batch']));
    initializers.push(int64Tensor('classes', [1], [p.conditions]), floatTensor('off_on', [2], Float32Array.of(0, 1)));
    nodes.push(
      onnx.NodeProto.create({ opType: 'OneHot', input: ['labels', 'classes', 'off_on'], output: ['one_hot'], attribute: [intAttribute('axis', -1)] }),
      onnx.NodeProto.create({ opType: 'Concat', input: [p.input, 'one_hot'], output: ['joined'], attribute: [intAttribute('axis', 1)] }),
    );
    current = 'joined';
  }
  const builder: OnnxBuilder = {
    initializer(name, dims, data) {
      initializers.push(data instanceof BigInt64Array ? int64Tensor(name, dims, Array.from(data, Number)) : floatTensor(name, dims, data));
      return name;
    },
    node(op, nodeInputs, attributes = {}, name) {
      const output = name ?? `n${nodes.length}`;
      const attribute = Object.entries(attributes).map(([k, v]) => ('ints' in v ? intsAttribute(k, v.ints) : 'int' in v ? intAttribute(k, v.int) : floatAttribute(k, v.float)));
      nodes.push(onnx.NodeProto.create({ opType: op, input: nodeInputs, output: [output], attribute }));
      return output;
    },
    activation(a, input, at) {
      const act = onnxActivation(a.name === 'leaky-relu' ? { type: 'leaky-relu', alpha: a.alpha } : a.name, input, `${at}.out`);
      if (!act) return input;
      nodes.push(act);
      return `${at}.out`;
    },
  };
  p.stacks.forEach((s, si) => {
    // Rows are flat in latentkit and in the graph's inputs and outputs; image layers see NCHW.
    if (s.inputShape.length === 3) current = builder.node('Reshape', [current, builder.initializer(`s${si}.image`, [4], BigInt64Array.from([-1, ...s.inputShape].map(BigInt)))], {}, `s${si}.in`);
    s.layers.forEach((l, li) => {
      current = l.onnx(builder, current, `s${si}.l${li}`);
    });
    if (s.outputShape.length === 3) current = builder.node('Flatten', [current], { axis: { int: 1 } }, `s${si}.flat`);
  });
  const width = p.stacks[p.stacks.length - 1]!.sizes.at(-1)!;
  for (const o of p.outputs) {
    if (o.op === 'columns') {
      initializers.push(int64Tensor(`${o.name}.starts`, [1], [o.from!]), int64Tensor(`${o.name}.ends`, [1], [o.to!]), int64Tensor(`${o.name}.axes`, [1], [1]));
      nodes.push(onnx.NodeProto.create({ opType: 'Slice', input: [current, `${o.name}.starts`, `${o.name}.ends`, `${o.name}.axes`], output: [o.name] }));
      continue;
    }
    const op = { identity: 'Identity', sigmoid: 'Sigmoid', softmax: 'Softmax' }[o.op];
    nodes.push(onnx.NodeProto.create({ opType: op, input: [current], output: [o.name], ...(o.op === 'softmax' && { attribute: [intAttribute('axis', -1)] }) }));
  }
  const graph = onnx.GraphProto.create({
    name: opts.name ?? `latentkit-${opts.part ?? 'model'}`,
    node: nodes,
    initializer: initializers,
    input: inputs,
    output: p.outputs.map((o) => valueInfo(o.name, onnx.TensorProto.DataType.FLOAT, ['batch', o.op === 'columns' ? o.to! - o.from! : width])),
  });
  const modelProto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'latentkit',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: ONNX_OPSET })],
    graph,
  });
  return onnx.ModelProto.encode(modelProto).finish();
}
