// TCP state codes as printed (hex) in the `st` column of /proc/net/tcp, from include/net/tcp_states.h.
export const TCP_STATE_NAMES = [
    'UNKNOWN',
    'ESTABLISHED',
    'SYN_SENT',
    'SYN_RECV',
    'FIN_WAIT1',
    'FIN_WAIT2',
    'TIME_WAIT',
    'CLOSE',
    'CLOSE_WAIT',
    'LAST_ACK',
    'LISTEN',
    'CLOSING',
    'NEW_SYN_RECV',
];
/** Name of a state given its hex code ("0A" → LISTEN); UNKNOWN for codes this table lacks. */
export function tcpStateFromHex(hex) {
    return TCP_STATE_NAMES[parseInt(hex, 16)] ?? 'UNKNOWN';
}
