export { loadMnist, type ImageSet, type MnistOptions } from './mnist.ts';
export { Supernet, type SupernetOptions } from './supernet.ts';
export { runSearch, SAMPLERS, type Sampler, type SearchOptions, type SearchResult } from './search.ts';
export { measureArchs, type MeasureArchOptions } from './measure.ts';
