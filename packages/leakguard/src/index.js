// @warren/leakguard: finds leaked sockets and fds of a Linux process from /proc, by class
// (close-wait, stuck-rx, ghost) and by growth. node: built-ins only.
export { TCP_STATE_NAMES, tcpStateFromHex } from "./tcp-states.js";
export { decodeProcAddress, formatEndpoint, formatIpv6 } from "./inet-address.js";
export { parseProcNetTcp } from "./proc-net-tcp.js";
export { OTHER_SOCKET_TABLES, collectTableInodes } from "./proc-net-other.js";
export { FD_KINDS, NoSuchProcessError, classifyFdLink, readProcFdLinks, readProcFds, tallyFdLinks, } from "./proc-fds.js";
export { parseNofileLimits, readNofileLimits } from "./proc-limits.js";
export { findGhostInodes, snapshotFromTexts, takeSnapshot, } from "./snapshot.js";
export { compilePeerFilter } from "./peer-filter.js";
export { FdAccessDeniedError, LEAK_CLASSES, findLeaks, leakCandidates, rememberSockets, } from "./leak-classes.js";
export { summarizeSockets } from "./summary.js";
export { GROWTH_FD_KINDS, MIN_GROWTH_SAMPLES, describeGrowth, describeGrowthSubject, findGrowth, isSteadyGrowth, } from "./growth.js";
export { diffSnapshots } from "./diff.js";
export { describeLeakGroup } from "./describe.js";
export { LeakError, assertNoLeaks, describeSettleFailure, settle } from "./settle.js";
export { leakGuardSuite, withLeakGuard } from "./node-test.js";
export { assertNoGrowth, GrowthError } from "./growth-guard.js";
export { createLeakGuard, useLeakGuard } from "./test-hooks.js";
export { runLeaks, runLeaksCli } from "./cli.js";
export { LEAKS_OPTIONS, leaksOptionsFromValues, leaksUsage, parseLeaksArgs, UsageError, withWatchDefault } from "./cli-args.js";
