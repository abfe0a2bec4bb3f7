// @warren/leakguard: finds leaked sockets and fds of a Linux process from /proc, by class
// (close-wait, stuck-rx, ghost) and by growth. node: built-ins only.
export { TCP_STATE_NAMES, tcpStateFromHex, type TcpState } from './tcp-states.ts';
export { decodeProcAddress, formatEndpoint, formatIpv6 } from './inet-address.ts';
export { parseProcNetTcp, type TcpParseOptions, type TcpProto, type TcpRow } from './proc-net-tcp.ts';
export { OTHER_SOCKET_TABLES, collectTableInodes } from './proc-net-other.ts';
export {
  FD_KINDS,
  NoSuchProcessError,
  classifyFdLink,
  readProcFdLinks,
  readProcFds,
  tallyFdLinks,
  type FdCounts,
  type FdKind,
  type FdTable,
} from './proc-fds.ts';
export { parseNofileLimits, readNofileLimits, type NofileLimits } from './proc-limits.ts';
export {
  findGhostInodes,
  snapshotFromTexts,
  takeSnapshot,
  type Direction,
  type ProcTexts,
  type Snapshot,
  type SocketInfo,
} from './snapshot.ts';
export { compilePeerFilter, type PeerFilter } from './peer-filter.ts';
export {
  FdAccessDeniedError,
  LEAK_CLASSES,
  findLeaks,
  leakCandidates,
  rememberSockets,
  type FindLeaksOptions,
  type LeakClass,
  type LeakGroup,
  type LeakReport,
} from './leak-classes.ts';
export { summarizeSockets, type PeerSummary, type SocketSummary } from './summary.ts';
export {
  GROWTH_FD_KINDS,
  MIN_GROWTH_SAMPLES,
  describeGrowth,
  describeGrowthSubject,
  findGrowth,
  isSteadyGrowth,
  type GrowthFinding,
  type GrowthOptions,
  type GrowthSubject,
} from './growth.ts';
export { diffSnapshots, type CountChange, type SnapshotDiff, type SocketChange } from './diff.ts';
export { describeLeakGroup } from './describe.ts';
export { LeakError, assertNoLeaks, describeSettleFailure, settle, type SettleOptions, type SettleResult } from './settle.ts';
export { leakGuardSuite, withLeakGuard, type LeakGuardHooks, type LeakGuardOptions } from './node-test.ts';
export { assertNoGrowth, GrowthError, type NoGrowthOptions } from './growth-guard.ts';
export { createLeakGuard, useLeakGuard, type LeakGuard } from './test-hooks.ts';
export { runLeaks, runLeaksCli, type CliIo } from './cli.ts';
export { LEAKS_OPTIONS, leaksOptionsFromValues, leaksUsage, parseLeaksArgs, UsageError, withWatchDefault, type LeaksCliOptions } from './cli-args.ts';
