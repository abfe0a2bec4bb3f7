// Names from a RabbitMQ listing (GET /api/users or /api/vhosts?columns=name). A user or vhost
// being created or deleted at that moment can be listed without its name (seen on 3.10): such
// entries are skipped instead of failing whoever reads the list.
export function listedNames(listing: unknown, prefix = ''): string[] {
  if (!Array.isArray(listing)) return [];
  return listing
    .map((entry: { name?: unknown } | null) => entry?.name)
    .filter((n): n is string => typeof n === 'string' && n.startsWith(prefix));
}
