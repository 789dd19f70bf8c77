/** The provider simulator (see server.ts): `startSimulator(options)` → `{url, baseUrls, stats, requests, inject, close}`. */

export type { RequestLogEntry } from './request-log.js';
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
export {
  createGate,
  type Gate,
  type GateVerdict,
  isLimiterShape,
  LIMITER_SHAPES,
  type LimiterShape,
  type ZooOptions,
} from './zoo.js';
