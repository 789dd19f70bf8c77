/** The provider simulator (see server.ts): `startSimulator(options)` → `{url, baseUrls, stats, requests, inject, close}`. */
export { startSimulator } from './server.js';
export type {
  AdmissionEvent,
  AnswerFn,
  Api,
  BatchLineFailure,
  BilledEvent,
  FaultKind,
  FaultRates,
  RecordedRequest,
  SimCall,
  SimImage,
  Simulator,
  SimulatorOptions,
  SimulatorStats,
} from './types.js';
