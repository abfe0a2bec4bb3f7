// The leaks CLI (`leakguard`, `warren leaks`): inspect a running process for leaked sockets and
// fds. runLeaksCli parses its own arguments; a host command that parses them itself (warren)
// calls runLeaks. Both return the exit status instead of exiting.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError, leaksUsage, parseLeaksArgs } from "./cli-args.js";
import { renderReport, renderWatchLine } from "./cli-format.js";
import { MIN_GROWTH_SAMPLES, findGrowth } from "./growth.js";
import { FdAccessDeniedError, findLeaks, rememberSockets } from "./leak-classes.js";
import { NoSuchProcessError } from "./proc-fds.js";
import { resolvePid, takeSnapshot } from "./snapshot.js";
import { summarizeSockets } from "./summary.js";
function commandName(pid) {
    try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    }
    catch {
        return '?';
    }
}
function jsonResult(options, snapshot, report) {
    return {
        pid: snapshot.pid,
        command: commandName(snapshot.pid),
        timestamp: new Date(snapshot.timestamp).toISOString(),
        port: options.port ?? null,
        samples: report.samples,
        spanMs: report.spanMs,
        fdAccess: snapshot.fdAccess,
        fds: snapshot.fds,
        limits: snapshot.limits,
        sockets: summarizeSockets(snapshot, options.port),
        leaks: report,
        ok: report.ok,
    };
}
/** Samples kept in watch mode to judge growth (two minutes at the default 2 s). */
const MAX_GROWTH_HISTORY = 60;
/** Adds the growth judged over `history` to a report of the socket classes. */
function withGrowth(report, history, options) {
    const growthJudged = history.length >= MIN_GROWTH_SAMPLES;
    const growth = growthJudged ? findGrowth(history, { peer: options.port, minIncrease: options.minIncrease }) : [];
    return { ...report, growthJudged, growth, ok: report.total === 0 && growth.length === 0 };
}
/** Sleeps, but wakes early when aborted (Ctrl-C in watch mode); returns false if aborted. */
async function pause(ms, signal) {
    try {
        await sleep(ms, undefined, { signal });
        return true;
    }
    catch {
        return false;
    }
}
async function judgeOnce(options, pid, io) {
    const samples = [];
    for (let i = 0; i < options.samples; i++) {
        if (i > 0)
            await sleep(options.intervalMs);
        samples.push(takeSnapshot(pid));
    }
    const last = samples.at(-1);
    const report = findLeaks(samples, { peer: options.port, growthMinIncrease: options.minIncrease });
    if (options.json) {
        io.stdout.write(JSON.stringify(jsonResult(options, last, report), null, 2) + '\n');
    }
    else {
        const span = samples.length > 1 ? `${samples.length} samples over ${report.spanMs} ms` : '1 sample';
        const filter = options.port === undefined ? '' : `, port ${options.port}`;
        const header = `pid ${pid} (${commandName(pid)}): ${span}${filter}`;
        io.stdout.write(renderReport(header, last, summarizeSockets(last, options.port), report));
    }
    return report.ok ? 0 : 1;
}
async function watch(options, pid, io) {
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    process.once('SIGINT', onSigint);
    try {
        const window = [];
        // Growth is judged over the whole watch so far (capped), not only the persistence window:
        // a slow leak shows as a rise across many samples.
        const history = [];
        const seen = new Map(); // names the peers of sockets that turn into ghosts
        let status = 0;
        for (let n = 1;; n++) {
            const snapshot = takeSnapshot(pid);
            window.push(snapshot);
            if (window.length > options.samples)
                window.shift();
            history.push(snapshot);
            if (history.length > MAX_GROWTH_HISTORY)
                history.shift();
            const report = withGrowth(findLeaks(window, { peer: options.port, seen, growth: false }), history, options);
            rememberSockets(seen, snapshot);
            status = report.ok ? 0 : 1;
            if (options.json)
                io.stdout.write(JSON.stringify(jsonResult(options, snapshot, report)) + '\n');
            else
                io.stdout.write(renderWatchLine(snapshot, summarizeSockets(snapshot, options.port), report));
            if (options.count !== undefined && n >= options.count)
                break;
            if (!(await pause((options.watchSeconds ?? 2) * 1000, stop.signal)))
                break;
        }
        return status; // the verdict of the last sample
    }
    finally {
        process.removeListener('SIGINT', onSigint);
    }
}
/**
 * Runs the CLI with the arguments after the command name; resolves to the exit status.
 * `name` is how usage and errors call the command (default 'leakguard').
 */
export async function runLeaksCli(argv, io = { stdout: process.stdout, stderr: process.stderr }, name = 'leakguard') {
    let options;
    try {
        options = parseLeaksArgs(argv);
    }
    catch (error) {
        if (!(error instanceof UsageError))
            throw error;
        io.stderr.write(`${name}: ${error.message}\n\n${leaksUsage(name)}`);
        return 2;
    }
    return runLeaks(options, io, name);
}
/** Runs the CLI with options already parsed (a host command's own parsing, see LEAKS_OPTIONS); resolves to the exit status. */
export async function runLeaks(options, io = { stdout: process.stdout, stderr: process.stderr }, name = 'leakguard') {
    if (options.help) {
        io.stdout.write(leaksUsage(name));
        return 0;
    }
    const pid = resolvePid(options.pid);
    try {
        return options.watchSeconds === undefined ? await judgeOnce(options, pid, io) : await watch(options, pid, io);
    }
    catch (error) {
        if (error instanceof FdAccessDeniedError || error instanceof NoSuchProcessError) {
            if (options.json)
                io.stdout.write(JSON.stringify({ pid, fdAccess: error instanceof FdAccessDeniedError ? 'denied' : 'gone', ok: null, error: error.message }) + '\n');
            io.stderr.write(`${name}: ${error.message}\n`);
            return 2;
        }
        throw error;
    }
}
