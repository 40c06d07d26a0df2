import type { DeviceInfo } from '../store.js'

/** The device fields an adapter read from a request, leaving out the ones it could not. */
export function deviceOf(userAgent: string | null | undefined, ip: string | undefined): DeviceInfo {
  const device: DeviceInfo = {}
  if (typeof userAgent === 'string' && userAgent !== '') device.userAgent = userAgent.slice(0, 512)
  if (ip !== undefined && ip !== '') device.ip = ip
  return device
}
