import { LutEntryError, LutParseError, MissingLutKeysError, UnsupportedSpaceError } from '../../lut/index.ts';
import { ArchParseError, UnknownKeyError } from '../../ops-library/index.ts';
import { OnnxFormatError, UnmappedKernelsError, UnsupportedOnnxError } from '../../predictor/onnx/index.ts';
import { OnnxImportError } from '../../ops-library/onnx/import/index.ts';
import {
  StoreConflictError, StoreJobStateError, StoreNotFoundError, StoreReferenceError, StoreUnavailableError, StoreValidationError,
} from '../store/index.ts';
import { HttpError } from './http.ts';

/**
 * The project's errors that mean "the request was wrong": each names what was wrong in its
 * message, so the client gets a 4xx it can act on. Anything else (a plain TypeError or
 * RangeError included) is a bug or an outage, answered 500 and logged: mapping every TypeError to
 * 400 made real bugs look like the client's fault.
 */
const CLIENT_ERRORS: ReadonlyArray<[new (...args: never[]) => Error, number]> = [
  [UnknownKeyError, 400],
  [ArchParseError, 400],
  [StoreValidationError, 400],
  [StoreReferenceError, 400],
  [OnnxFormatError, 400],
  [UnsupportedOnnxError, 400],
  // not ONNX, truncated, an operator it cannot infer, a symbolic dimension without input_shape
  [OnnxImportError, 400],
  [UnsupportedSpaceError, 400],
  [LutParseError, 400],
  [LutEntryError, 400],
  [StoreNotFoundError, 404],
  [StoreConflictError, 409],
  [StoreJobStateError, 409],
  [MissingLutKeysError, 409],
  // a valid model with kernels of types the device never timed, and strict=true
  [UnmappedKernelsError, 422],
  // not the client's fault, but not a bug either: the same request may succeed later (Retry-After)
  [StoreUnavailableError, 503],
];

/**
 * The HTTP status for an error thrown while handling a request.
 *
 * @example
 * httpStatusOf(new HttpError(404, 'no route'));          // 404
 * httpStatusOf(new UnknownKeyError('space', 'x', []));   // 400
 * httpStatusOf(new TypeError("x.y is not a function")); // 500
 */
export function httpStatusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  for (const [type, status] of CLIENT_ERRORS) if (error instanceof type) return status;
  return 500;
}
