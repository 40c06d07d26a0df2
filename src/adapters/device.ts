import type { IncomingMessage } from 'node:http'
import type { DeviceInfo } from '../store.js'

/** The device fields an adapter read from a request, leaving out the ones it could not. */
export function deviceOf(userAgent: string | null | undefined, ip: string | undefined): DeviceInfo {
  const device: DeviceInfo = {}
  if (typeof userAgent === 'string' && userAgent !== '') device.userAgent = userAgent.slice(0, 512)
  if (ip !== undefined && ip !== '') device.ip = ip
  return device
}

/** True when a node:http request came in over TLS (an https server's socket). */
export function overTls(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true
}

/** A node:http header as one string: the first of repeated ones, undefined when absent. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
