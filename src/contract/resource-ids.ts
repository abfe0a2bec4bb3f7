// Instance and binding ids as the contract admits them: the protocol checks every id it receives
// against this, and whatever names RabbitMQ objects after an id can rely on it.

/** Ids the platforms send are GUIDs; this also admits any other short id that is safe in URLs and RabbitMQ names. */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._~-]{0,254}$';
export const ID_RULE = '1 to 255 characters from A-Z a-z 0-9 . _ ~ -, starting with a letter or digit';
