import onnxProto from 'onnx-proto';
import { decodeModel, num, type TensorProto } from './decode.ts';
import { SMALL_TENSOR_ELEMENTS } from './types.ts';

const { onnx } = onnxProto;
/** Where a stripped tensor says its data went: nowhere (ONNX's external-data form keeps the file valid). */
export const STRIPPED_LOCATION = 'hwlat-stripped';

function strip(t: TensorProto): boolean {
  const n = (t.dims ?? []).map(num).reduce((a, b) => a * b, 1);
  if (n <= SMALL_TENSOR_ELEMENTS || t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) return false;
  t.rawData = new Uint8Array();
  t.floatData = [];
  t.int32Data = [];
  t.int64Data = [];
  t.doubleData = [];
  t.uint64Data = [];
  t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  t.externalData = [{ key: 'location', value: STRIPPED_LOCATION }];
  return true;
}

/**
 * Drops the data of every tensor with more than SMALL_TENSOR_ELEMENTS elements (weights), keeping
 * its name, type and dims, so the model still imports to the same shapes and kernels but uploads
 * in kilobytes. Small tensors (shape arguments, scalars, biases of small layers) keep their data.
 * The result is no longer runnable. Throws OnnxFormatError on bytes that are not an ONNX model.
 */
export function stripOnnx(bytes: Uint8Array): { bytes: Uint8Array; stripped: number } {
  const model = decodeModel(bytes);
  let stripped = 0;
  const visit = (g: onnxProto.onnx.IGraphProto | null | undefined): void => {
    if (!g) return;
    for (const t of g.initializer ?? []) if (strip(t)) stripped++;
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        if (a.t && strip(a.t)) stripped++;
        visit(a.g);
        for (const sub of a.graphs ?? []) visit(sub);
      }
    }
  };
  visit(model.graph);
  return { bytes: onnx.ModelProto.encode(model).finish(), stripped };
}
