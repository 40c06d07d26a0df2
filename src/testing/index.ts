export { describeStoreConformance } from './conformance.js'
export type {
  ConformanceOptions,
  RunnerIt,
  StoreDeclaration,
  StoreHarness,
  TestBody,
  TestRunner,
} from './runner.js'
