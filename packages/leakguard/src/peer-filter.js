function parsePort(text, whole) {
    const port = Number(text);
    if (!/^\d+$/.test(text) || port < 1 || port > 65535)
        throw new RangeError(`not a port or address:port: ${whole}`);
    return port;
}
function compileOne(item) {
    const text = String(item).trim();
    if (!text.includes(':')) {
        const port = parsePort(text, text);
        return (s) => s.localPort === port || s.remotePort === port;
    }
    const colon = text.lastIndexOf(':');
    let address = text.slice(0, colon);
    const port = parsePort(text.slice(colon + 1), text);
    if (address.startsWith('[') && address.endsWith(']'))
        address = address.slice(1, -1);
    const endpoint = address.includes(':') ? `[${address.toLowerCase()}]:${port}` : `${address}:${port}`;
    return (s) => s.local === endpoint || s.remote === endpoint;
}
/** A predicate for a filter; without a filter every socket matches. Throws RangeError on bad input. */
export function compilePeerFilter(filter) {
    if (filter === undefined)
        return () => true;
    const items = Array.isArray(filter) ? filter : [filter];
    const predicates = items.map(compileOne);
    return (s) => predicates.some((p) => p(s));
}
