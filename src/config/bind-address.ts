// "[host]:port" listen addresses (Go's net.Listen syntax) as used by --metrics-bind-address.

export interface BindAddress {
  /** undefined = every interface (":8080"). */
  host: string | undefined;
  port: number;
}

/** Splits "[host]:port" (IPv6 in brackets) into host and port; throws a message with examples otherwise. */
export function parseBindAddress(bindAddress: string): BindAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s]*)):([0-9]{1,5})$/.exec(bindAddress);
  const port = Number(m?.[3]);
  if (!m || port > 65535) {
    throw new Error(
      `invalid bind address ${JSON.stringify(bindAddress)}: use "[host]:port" such as ":8080", "127.0.0.1:8080" or "[::1]:8080"`,
    );
  }
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}
