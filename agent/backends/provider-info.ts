/** Whether one execution provider of a runtime can really create a session on this machine. */
export interface ProviderInfo {
  /** provider name as the runtime spells it: 'cpu', 'cuda', 'tensorrt', 'webgpu', … */
  name: string;
  /** shipped inside the runtime package (true) or needing extra libraries installed (false) */
  bundled: boolean;
  /** a one-node probe session was created and run with this provider */
  loads: boolean;
  /** why it did not load, when it did not */
  error?: string;
}
