import { type CompiledAddressPolicy, judgeHost } from './address-policy.ts'

/** The longest target URL accepted. */
export const maxTargetUrlLength = 2048

/**
 * Why a URL cannot be a webhook target, or null if it can: it must be an absolute http(s) URL
 * without embedded credentials, and its host must not be a refused address.
 */
export function targetUrlProblem(value: string, policy: CompiledAddressPolicy): string | null {
  if (value.length > maxTargetUrlLength)
    return `Ensure this field has no more than ${maxTargetUrlLength} characters.`
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'Enter a valid URL.'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'The URL must use http or https.'
  if (url.username || url.password) return 'The URL must not contain credentials; use config.auth instead.'
  if (!url.hostname) return 'Enter a valid URL.'
  if (judgeHost(url.hostname, policy) === 'blocked') {
    return 'The URL points to a private, loopback or link-local address, which is not allowed.'
  }
  return null
}
